/** The providers: one line per provider. Order matters where a provider is chosen by default (first with a key). */
import { dashscope } from './dashscope/index.js';
import { modelscope } from './modelscope/index.js';
import type { Capability, ProviderDescriptor } from './types.js';

const PROVIDERS: ProviderDescriptor[] = [dashscope, modelscope];

export function providerList(): readonly ProviderDescriptor[] {
  return PROVIDERS;
}

export function findProvider(id: string): ProviderDescriptor | undefined {
  return PROVIDERS.find((p) => p.id === id);
}

/** The providers that offer a capability, in the order one is chosen by default (rank, then registry order). */
export function providersWith(capability: Capability): ProviderDescriptor[] {
  const rank = (p: ProviderDescriptor) => p.rank?.[capability] ?? 0;
  return PROVIDERS.filter((p) => p.capabilities.includes(capability)).sort((a, b) => rank(a) - rank(b));
}

/** Adds a provider (an extension, or a test's stand-in); returns a function that removes it again. */
export function registerProvider(provider: ProviderDescriptor): () => void {
  if (findProvider(provider.id)) throw new Error(`a provider named ${provider.id} is already registered`);
  PROVIDERS.push(provider);
  return () => {
    const i = PROVIDERS.indexOf(provider);
    if (i >= 0) PROVIDERS.splice(i, 1);
  };
}

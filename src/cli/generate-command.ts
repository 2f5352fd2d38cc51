/** Builds the generate request from parsed options and calls the core. */
import type { ResolvedConfig } from '../core/config/resolve.js';
import { AuthError } from '../core/errors.js';
import { validateGenerate } from '../core/generate-request.js';
import type { CliContext, GlobalOptions } from './context.js';
import type { TerminalUi } from './ui.js';

export async function runGenerateCommand(
  ctx: CliContext,
  opts: GlobalOptions & Record<string, unknown>,
  resolved: ResolvedConfig,
  prompt: string,
  ui: TerminalUi,
): Promise<void> {
  const params = validateGenerate(prompt, {
    model: resolved.config.providers.modelscope.model,
    size: opts.size as string | undefined,
    seed: opts.seed as string | undefined,
    steps: opts.steps as string | undefined,
    guidance: opts.guidance as string | undefined,
    negative: opts.negative as string | undefined,
    lora: opts.lora as string[] | undefined,
  });
  ui.debug(`generate: ${JSON.stringify(params)}`);
  if (!resolved.config.providers.modelscope.apiKey) {
    throw new AuthError('no ModelScope key configured', {
      provider: 'modelscope',
      hint: 'set MODELSCOPE_API_KEY, or providers.modelscope.apiKey in .imagegenrc.json (imagegen init)',
    });
  }
  void ctx;
  throw new AuthError('ModelScope generation is not available in this build', { provider: 'modelscope' });
}

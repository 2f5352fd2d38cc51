import { describe, expect, it } from '@jest/globals';
import { parseLoras, sizeRange, validateGenerate } from '../src/providers/modelscope/request.js';

const model = 'Qwen/Qwen-Image';

describe('validateGenerate', () => {
  it('builds the documented body fields', () => {
    expect(
      validateGenerate(
        '  a cat  ',
        { size: '1024x768', seed: '42', steps: '30', guidance: '3.5', negative: 'blur' },
        model,
      ),
    ).toEqual({
      model,
      prompt: 'a cat',
      size: '1024x768',
      seed: 42,
      steps: 30,
      guidance: 3.5,
      negative_prompt: 'blur',
    });
  });

  it.each([
    [{ seed: '-1' }, '--seed: expected an integer from 0 to 2147483647'],
    [{ seed: '2147483648' }, '--seed'],
    [{ steps: '0' }, '--steps: expected an integer from 1 to 100'],
    [{ steps: '101' }, '--steps'],
    [{ guidance: '1.4' }, '--guidance: expected a number from 1.5 to 20'],
    [{ guidance: '21' }, '--guidance'],
    [{ size: '1024*1024' }, '--size: expected WIDTHxHEIGHT'],
    [{ size: '2048x2048' }, '--size: Qwen/Qwen-Image takes sides from 64 to 1664 px'],
  ])('rejects %j', (flags, message) => {
    expect(() => validateGenerate('a cat', flags, model)).toThrow(message);
  });

  it('rejects empty and overlong prompts', () => {
    expect(() => validateGenerate('  ', {}, model)).toThrow('needs a prompt');
    expect(() => validateGenerate('x'.repeat(2000), {}, model)).toThrow('fewer than 2000');
    expect(validateGenerate('x'.repeat(1999), {}, model).prompt).toHaveLength(1999);
  });

  it('knows the size range of each model family', () => {
    expect(sizeRange('Tongyi-MAI/Z-Image-Turbo')).toEqual([512, 2048]);
    expect(sizeRange('black-forest-labs/FLUX.1-Krea-dev')).toEqual([64, 1024]);
    expect(sizeRange('MusePublic/majicMIX_realistic')).toEqual([64, 2048]);
  });
});

describe('parseLoras', () => {
  it('sends one LoRA as a string and several as weights that sum to 1', () => {
    expect(parseLoras([])).toBeUndefined();
    expect(parseLoras(['owner/lora-a'])).toBe('owner/lora-a');
    expect(parseLoras(['a/x:0.6', 'b/y:0.4'])).toEqual({ 'a/x': 0.6, 'b/y': 0.4 });
    expect(parseLoras(['a/x:0.5', 'b/y', 'c/z'])).toEqual({ 'a/x': 0.5, 'b/y': 0.25, 'c/z': 0.25 });
  });

  it('rejects more than six, duplicates and weights that do not sum to 1', () => {
    expect(() => parseLoras(['a', 'b', 'c', 'd', 'e', 'f', 'g'])).toThrow('at most 6');
    expect(() => parseLoras(['a', 'a'])).toThrow('twice');
    expect(() => parseLoras(['a:0.5', 'b:0.2'])).toThrow('sum to 1.0');
    expect(() => parseLoras(['a:1.5'])).toThrow('weight');
  });
});

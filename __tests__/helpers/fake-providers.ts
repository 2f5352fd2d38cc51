/**
 * A local stand-in for ModelScope API-Inference and DashScope on 127.0.0.1:0, speaking their documented HTTP
 * contracts: auth and async headers are checked, bodies have the documented shapes, tasks move through
 * scripted statuses, and results are served from /results/.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A task status step: a status name, a failure, or a raw HTTP reply (e.g. a 503). */
export type Step = string | { status: 'FAILED'; code: string | number; message: string } | Reply;

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeOptions {
  dashscopeKey: string;
  modelscopeKey: string;
}

const DASHSCOPE_FUNCTIONS = [
  'stylization_all',
  'stylization_local',
  'description_edit',
  'description_edit_with_mask',
  'remove_watermark',
  'expand',
  'super_resolution',
  'colorization',
  'doodle',
  'control_cartoon_feature',
];

export class FakeProviders {
  url = '';
  requests: RecordedRequest[] = [];
  /** Replies returned, in order, before the normal submit behaviour. */
  dashscopeSubmitReplies: Reply[] = [];
  modelscopeSubmitReplies: Reply[] = [];
  /** Status steps for every new task; the last step repeats. */
  dashscopeSteps: Step[] = ['PENDING', 'RUNNING', 'SUCCEEDED'];
  modelscopeSteps: Step[] = ['PENDING', 'PROCESSING', 'SUCCEED'];
  /** What /results/<name> serves. */
  result: { status: number; body: Buffer; contentType?: string } = {
    status: 200,
    body: Buffer.alloc(0),
    contentType: 'image/png',
  };
  /** Result URL base; defaults to this server. */
  resultBase?: string;
  modelscopeHeaders: Record<string, string> = {
    'modelscope-ratelimit-requests-limit': '2000',
    'modelscope-ratelimit-requests-remaining': '1999',
    'modelscope-ratelimit-model-requests-limit': '200',
    'modelscope-ratelimit-model-requests-remaining': '199',
  };
  canceled: string[] = [];

  private server?: Server;
  private tasks = new Map<string, { provider: 'dashscope' | 'modelscope'; polls: number; canceled: boolean }>();
  private counter = 0;

  constructor(private readonly options: FakeOptions) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  count(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  private send(res: ServerResponse, reply: Reply): void {
    const headers = { 'content-type': 'application/json', ...(reply.headers ?? {}) };
    res.writeHead(reply.status, headers);
    res.end(reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  }

  private requestId(): string {
    return `req-${++this.counter}`;
  }

  private newTask(provider: 'dashscope' | 'modelscope'): string {
    const id = `${provider === 'dashscope' ? 'ds' : 'ms'}-task-${++this.counter}-0123456789abcdef`;
    this.tasks.set(id, { provider, polls: 0, canceled: false });
    return id;
  }

  private handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const path = (req.url ?? '/').split('?')[0];
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      // keep raw
    }
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });

    if (req.method === 'GET' && path.startsWith('/results/')) {
      const { status, body: bytes, contentType } = this.result;
      res.writeHead(status, {
        'content-type': contentType ?? 'application/octet-stream',
        'content-length': String(bytes.length),
      });
      res.end(bytes);
      return;
    }
    if (path.startsWith('/api/v1/')) return this.dashscope(req, res, path, body);
    if (path.startsWith('/v1/')) return this.modelscope(req, res, path, body);
    this.send(res, { status: 404, body: { message: 'not found' } });
  }

  private dashscope(req: IncomingMessage, res: ServerResponse, path: string, body: unknown): void {
    const request_id = this.requestId();
    const auth = req.headers.authorization;
    if (!auth)
      return this.send(res, {
        status: 401,
        body: { code: 'InvalidApiKey', message: 'No API-key provided.', request_id },
      });
    if (auth !== `Bearer ${this.options.dashscopeKey}`)
      return this.send(res, {
        status: 401,
        body: { code: 'InvalidApiKey', message: 'Invalid API-key provided.', request_id },
      });

    if (req.method === 'POST' && path === '/api/v1/services/aigc/image2image/image-synthesis') {
      if (req.headers['x-dashscope-async'] !== 'enable') {
        return this.send(res, {
          status: 403,
          body: { code: 'AccessDenied', message: 'current user api does not support synchronous calls', request_id },
        });
      }
      const b = body as
        { model?: unknown; input?: Record<string, unknown>; parameters?: Record<string, unknown> } | undefined;
      const input = b?.input;
      const ok =
        typeof b?.model === 'string' &&
        input !== undefined &&
        DASHSCOPE_FUNCTIONS.includes(String(input.function)) &&
        typeof input.prompt === 'string' &&
        typeof input.base_image_url === 'string' &&
        /^(data:image\/[a-z]+;base64,|https?:\/\/)/.exec(input.base_image_url) !== null &&
        (b?.parameters === undefined || typeof b.parameters === 'object');
      if (!ok) {
        return this.send(res, {
          status: 400,
          body: {
            code: 'InvalidParameter',
            message: 'Required parameter(s) missing or invalid, please check the request parameters.',
            request_id,
          },
        });
      }
      const scripted = this.dashscopeSubmitReplies.shift();
      if (scripted) return this.send(res, { ...scripted, body: { request_id, ...(scripted.body as object) } });
      const task_id = this.newTask('dashscope');
      return this.send(res, { status: 200, body: { output: { task_status: 'PENDING', task_id }, request_id } });
    }
    const cancel = /^\/api\/v1\/tasks\/([^/]+)\/cancel$/.exec(path);
    if (req.method === 'POST' && cancel) {
      const task = this.tasks.get(cancel[1]);
      if (!task)
        return this.send(res, { status: 404, body: { code: 'NotFound', message: 'task not found', request_id } });
      task.canceled = true;
      this.canceled.push(cancel[1]);
      return this.send(res, { status: 200, body: { request_id } });
    }
    const poll = /^\/api\/v1\/tasks\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && poll) {
      const task_id = poll[1];
      const task = this.tasks.get(task_id);
      if (!task)
        return this.send(res, { status: 200, body: { request_id, output: { task_id, task_status: 'UNKNOWN' } } });
      if (task.canceled)
        return this.send(res, { status: 200, body: { request_id, output: { task_id, task_status: 'CANCELED' } } });
      const step = this.dashscopeSteps[Math.min(task.polls++, this.dashscopeSteps.length - 1)];
      if (typeof step === 'object' && 'status' in step && typeof step.status === 'number')
        return this.send(res, step as Reply);
      if (typeof step === 'object') {
        const f = step as { code: string; message: string };
        return this.send(res, {
          status: 200,
          body: {
            request_id,
            output: {
              task_id,
              task_status: 'FAILED',
              code: f.code,
              message: f.message,
              task_metrics: { TOTAL: 1, SUCCEEDED: 0, FAILED: 1 },
            },
          },
        });
      }
      const output: Record<string, unknown> = { task_id, task_status: step, submit_time: '2026-11-21 10:00:00.000' };
      if (step === 'SUCCEEDED') {
        output.results = [{ url: `${this.resultBase ?? this.url}/results/${task_id}.png?Expires=1` }];
        output.task_metrics = { TOTAL: 1, SUCCEEDED: 1, FAILED: 0 };
      }
      return this.send(res, {
        status: 200,
        body: { request_id, output, ...(step === 'SUCCEEDED' ? { usage: { image_count: 1 } } : {}) },
      });
    }
    this.send(res, { status: 404, body: { code: 'NotFound', message: 'no such path', request_id } });
  }

  private modelscope(req: IncomingMessage, res: ServerResponse, path: string, body: unknown): void {
    const request_id = this.requestId();
    const auth = req.headers.authorization;
    // ModelScope's 401 body is not documented; the only observed error shape is {errors:{message}, request_id}.
    if (auth !== `Bearer ${this.options.modelscopeKey}`)
      return this.send(res, { status: 401, body: { errors: { message: 'Authentication failed' }, request_id } });

    if (req.method === 'POST' && path === '/v1/images/generations') {
      if (req.headers['x-modelscope-async-mode'] !== 'true') {
        return this.send(res, {
          status: 400,
          body: {
            errors: {
              message:
                'image-gen task currently does not support synchronous calls. Please refer to the documentation and set header X-ModelScope-Async-Mode=true to switch to asynchronous calling mode',
            },
            request_id,
          },
        });
      }
      const b = body as Record<string, unknown> | undefined;
      if (typeof b?.model !== 'string' || typeof b.prompt !== 'string' || b.prompt.length >= 2000) {
        return this.send(res, {
          status: 400,
          body: { errors: { message: 'submit image generation task error' }, request_id },
        });
      }
      const scripted = this.modelscopeSubmitReplies.shift();
      if (scripted)
        return this.send(res, {
          ...scripted,
          headers: { ...this.modelscopeHeaders, ...(scripted.headers ?? {}) },
          body: { request_id, ...(scripted.body as object) },
        });
      const task_id = this.newTask('modelscope');
      return this.send(res, { status: 200, headers: this.modelscopeHeaders, body: { task_id, request_id } });
    }
    const poll = /^\/v1\/tasks\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && poll) {
      if (req.headers['x-modelscope-task-type'] !== 'image_generation') {
        return this.send(res, { status: 400, body: { errors: { message: 'task type header required' }, request_id } });
      }
      const task_id = poll[1];
      const task = this.tasks.get(task_id);
      if (!task) return this.send(res, { status: 404, body: { errors: { message: 'task not found' }, request_id } });
      const step = this.modelscopeSteps[Math.min(task.polls++, this.modelscopeSteps.length - 1)];
      if (typeof step === 'object' && 'status' in step && typeof step.status === 'number')
        return this.send(res, step as Reply);
      if (typeof step === 'object') {
        const f = step as { code: number; message: string };
        return this.send(res, {
          status: 200,
          body: { task_status: 'FAILED', errors: { code: f.code, message: f.message }, request_id, task_id },
        });
      }
      if (step === 'SUCCEED') {
        return this.send(res, {
          status: 200,
          body: {
            task_status: 'SUCCEED',
            output_images: [`${this.resultBase ?? this.url}/results/${task_id}.png`],
            request_id,
            task_id,
          },
        });
      }
      return this.send(res, { status: 200, body: { task_status: step, outputs: {}, request_id, task_id } });
    }
    this.send(res, { status: 404, body: { errors: { message: 'not found' }, request_id } });
  }
}

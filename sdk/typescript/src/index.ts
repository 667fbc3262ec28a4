// The reehub TypeScript SDK: the generated operations and types of
// openapi.yaml (src/gen, by @hey-api/openapi-ts), and createReehubClient,
// which answers each security scheme with its own credential and throws
// ReehubError for every error answer.
export * from './gen/index.js';

import { createClient, createConfig, type Auth, type Client } from './gen/client/index.js';
import type { ApiError } from './gen/types.gen.js';

/** The credentials a client sends; each goes only to its own scheme. */
export interface Credentials {
  /** HTTP Basic: sent only to operations that accept Basic. */
  basic?: { username: string; password: string };
  /** A personal API token (reeh_...) or a JWT: sent as Bearer only to operations that accept Bearer. */
  token?: string;
}

/** Options of createReehubClient. */
export interface ReehubClientOptions {
  /** The server, for example http://localhost:5000. */
  baseUrl: string;
  credentials?: Credentials;
  /** A fetch implementation (default: the global fetch). */
  fetch?: typeof fetch;
}

/**
 * An error answer of the API as a thrown Error: `status` is the HTTP status,
 * `code` and `message` come from reehub's error model ({code, message, type}),
 * or from the REANA and FOSSology shapes, which carry a message too.
 */
export class ReehubError extends Error {
  readonly status: number;
  readonly code: number;
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    const model = (typeof body === 'object' && body !== null ? body : {}) as Partial<ApiError>;
    const message = typeof model.message === 'string' ? model.message : typeof body === 'string' && body !== '' ? body : `HTTP ${status}`;
    super(message);
    this.name = 'ReehubError';
    this.status = status;
    this.code = typeof model.code === 'number' ? model.code : status;
    this.body = body;
  }
}

/**
 * The token for one security scheme of an operation, or undefined when the
 * caller has no credential of that kind (the scheme is then skipped). A
 * single static token would be sent to every scheme (Basic first), which is
 * why each scheme is answered on its own.
 */
export function credentialFor(auth: Auth, credentials: Credentials | undefined): string | undefined {
  if (!credentials || auth.type !== 'http') {
    return undefined; // the access_token query parameter is never filled in: tokens stay out of URLs
  }
  if (auth.scheme === 'basic' && credentials.basic) {
    return `${credentials.basic.username}:${credentials.basic.password}`;
  }
  if (auth.scheme === 'bearer' && credentials.token) {
    return credentials.token;
  }
  return undefined;
}

/** A client for one server and one identity; pass it as `client` to the operations. */
export function createReehubClient(options: ReehubClientOptions): Client {
  const client = createClient(
    createConfig({
      baseUrl: options.baseUrl,
      auth: (auth: Auth) => credentialFor(auth, options.credentials),
      throwOnError: true,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    }),
  );
  client.interceptors.error.use((error: unknown, response: Response | undefined) => {
    if (error instanceof ReehubError || response === undefined) {
      return error; // a network failure stays what fetch threw
    }
    return new ReehubError(response.status, error);
  });
  return client;
}

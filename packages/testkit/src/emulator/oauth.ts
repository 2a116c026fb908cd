/**
 * The OAuth side of Genesys: `POST /oauth/token` with the client-credentials grant
 * (research/genesys.md §8) and the bearer check every Platform API call goes through.
 */
import { errorAnswer, genesysError, type EmulatorAnswer } from './genesys-errors.js';
import { newAccessToken } from './ids.js';
import type { EmulatorClient } from './types.js';

/** The outcome of a bearer check: the token's client, or the 401 answer to give. */
export type BearerCheck = { ok: true; clientId: string } | { ok: false; answer: EmulatorAnswer };

/** Issues, checks and revokes bearer tokens for a fixed set of OAuth clients. */
export class TokenStore {
  readonly #clients: readonly EmulatorClient[];
  readonly #lifetimeSeconds: number;
  readonly #tokens = new Map<string, { clientId: string; expiresAt: number }>();

  constructor(clients: readonly EmulatorClient[], lifetimeSeconds: number) {
    this.#clients = clients;
    this.#lifetimeSeconds = lifetimeSeconds;
  }

  /** The answer of `POST /oauth/token` for this `Authorization` header and form body. */
  tokenRequest(authorization: string | undefined, form: Record<string, unknown> | undefined): EmulatorAnswer {
    const credentials = parseBasic(authorization);
    if (!credentials) {
      return oauthError(401, 'invalid_client', 'Client credentials are required (HTTP Basic authorization).');
    }
    const client = this.#clients.find(
      (c) => c.clientId === credentials.clientId && c.clientSecret === credentials.clientSecret,
    );
    if (!client) return oauthError(401, 'invalid_client', 'Invalid client id or client secret.');

    const grantType = form?.['grant_type'];
    if (grantType === undefined) return oauthError(400, 'invalid_request', 'grant_type is required.');
    if (grantType !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', `Unsupported grant type: ${String(grantType)}.`);
    }

    const accessToken = newAccessToken();
    this.#tokens.set(accessToken, {
      clientId: client.clientId,
      expiresAt: Date.now() + this.#lifetimeSeconds * 1000,
    });
    return {
      status: 200,
      body: { access_token: accessToken, token_type: 'bearer', expires_in: this.#lifetimeSeconds },
    };
  }

  /** Checks an API call's `Authorization: Bearer …` header. */
  checkBearer(authorization: string | undefined): BearerCheck {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match?.[1]) {
      return {
        ok: false,
        answer: {
          status: 401,
          body: genesysError(401, 'authentication.required', 'No authentication bearer token specified in authorization header.'),
        },
      };
    }
    const token = this.#tokens.get(match[1]);
    if (!token) return { ok: false, answer: errorAnswer(401) };
    if (token.expiresAt <= Date.now()) {
      this.#tokens.delete(match[1]);
      return { ok: false, answer: errorAnswer(401) };
    }
    return { ok: true, clientId: token.clientId };
  }

  /** Revokes every token issued so far. */
  expireAll(): void {
    this.#tokens.clear();
  }
}

function parseBasic(authorization: string | undefined): EmulatorClient | undefined {
  const match = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { clientId: decoded.slice(0, colon), clientSecret: decoded.slice(colon + 1) };
}

function oauthError(status: number, error: string, description: string): EmulatorAnswer {
  return { status, body: { error, description } };
}

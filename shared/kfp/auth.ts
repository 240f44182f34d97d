import { readFileSync } from 'node:fs';
import { UserError } from '../util/errors.js';

/** Where the step's credentials for the KFP API come from; values never leave this object in a message. */
export interface AuthSources {
  token?: string;
  /** A file holding a bearer token: in-cluster projected service-account tokens rotate, so it is re-read. */
  tokenFile?: string;
  /** A Dex or oauth2-proxy session cookie, sent as the Cookie header. */
  cookie?: string;
}

/** Bearer token and cookie headers for every KFP call, and the names of the inputs they came from. */
export class KfpAuth {
  private fileToken = '';

  constructor(private readonly sources: AuthSources, private readonly registerSecret: (value: string) => void = () => undefined) {
    if (sources.tokenFile) this.fileToken = this.readTokenFile();
  }

  /** The inputs used, for error messages: which input to check, never its value. */
  describe(): string {
    const used = [this.sources.token && 'token', this.sources.tokenFile && 'tokenFile', this.sources.cookie && 'cookie'].filter(Boolean);
    if (used.length === 0) return 'no credentials (inputs token, tokenFile and cookie are empty)';
    return `the credentials from input${used.length > 1 ? 's' : ''} ${used.map((name) => `'${name}'`).join(' and ')}`;
  }

  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    const token = this.sources.token || this.fileToken;
    if (token) headers.authorization = `Bearer ${token}`;
    if (this.sources.cookie) headers.cookie = this.sources.cookie;
    return headers;
  }

  /** After a 401: reads the token file again; true when it now holds a different token worth a retry. */
  refresh(): boolean {
    if (!this.sources.tokenFile) return false;
    const previous = this.fileToken;
    this.fileToken = this.readTokenFile();
    return this.fileToken !== previous;
  }

  private readTokenFile(): string {
    const file = this.sources.tokenFile ?? '';
    let token: string;
    try {
      token = readFileSync(file, 'utf8').trim();
    } catch (error) {
      throw new UserError(`input 'tokenFile': cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (!token) throw new UserError(`input 'tokenFile': '${file}' is empty`);
    this.registerSecret(token);
    return token;
  }
}

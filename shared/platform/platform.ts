/** What the core needs from a CI runner. Only entry files pick an implementation. */
export interface CiContext {
  /** Commit being built. */
  sha: string;
  runId: string;
  runNumber: string;
  /** A link to this run that a person can open. */
  runUrl: string;
  /** The repository's web URL, for org.opencontainers.image.source. */
  repositoryUrl: string;
  workspace: string;
}

export interface ServiceConnection {
  id: string;
  url: string;
  scheme: string;
  parameters: Record<string, string>;
  data: Record<string, string>;
}

export interface Platform {
  readonly name: 'azure' | 'github';
  readonly isDebug: boolean;
  readonly ci: CiContext;
  /** Fired by SIGINT/SIGTERM, which is how both runners cancel a step. */
  readonly signal: AbortSignal;

  /** The raw value of an input as the runner passed it, undefined when unset. */
  getInput(name: string): string | undefined;
  /** Credentials of the service connection chosen in an input (Azure DevOps only). */
  getServiceConnection(inputName: string): ServiceConnection | undefined;
  /** A service endpoint by id, e.g. SystemVssConnection (Azure DevOps only). */
  getEndpoint(id: string): ServiceConnection | undefined;
  /** The job's OIDC token for an audience, for workload identity federation (GitHub only). */
  requestIdToken(audience: string): Promise<string>;
  /** Environment for child processes: the runner's, minus the inputs and secrets we were given. */
  childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;

  setOutput(name: string, value: string): void;
  setSecret(value: string): void;
  /** Redacts every registered secret from a text. */
  redact(text: string): string;

  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  debug(message: string): void;
  group<T>(title: string, body: () => Promise<T>): Promise<T>;
  progress(percent: number, message: string): void;
  /** Adds markdown to the run's summary page. */
  summary(markdown: string): Promise<void>;
  /** Marks the step failed with a one-line reason; the process exits non-zero. */
  fail(message: string): void;
}

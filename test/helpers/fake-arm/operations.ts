import { randomUUID } from 'node:crypto';

/** How an operation ends: Succeeded, or Failed with an ARM error (code, message). */
export type OperationOutcome = { status: 'Succeeded' } | { status: 'Failed'; error: { code: string; message: string } };

export interface FakeOperation {
  id: string;
  startedAt: number;
  polls: number;
  status: 'InProgress' | 'Succeeded' | 'Failed';
  endTime?: string;
  error?: { code: string; message: string };
  /** Decides the outcome and applies it to the resource when the operation completes. */
  complete: () => OperationOutcome;
}

export interface OperationPacing {
  /** Status polls after which an operation completes (default 2). */
  polls: number;
  /** Or, whichever comes first, this long after it started, on the fake's clock (default 1500 ms). */
  afterMs: number;
  /** Retry-After the fake asks for on its LRO answers, in seconds (default 1). */
  retryAfterSeconds: number;
}

/**
 * Long-running operations as ARM runs them: each has a status resource (Azure-AsyncOperation) and
 * a result URL (Location) under the workspace's region, InProgress until enough polls or time
 * passed, then Succeeded or Failed, with the resource changed at that moment.
 */
export class FakeOperations {
  private readonly operations = new Map<string, FakeOperation>();

  constructor(private readonly base: () => string, private readonly pacing: OperationPacing, private readonly now: () => number = Date.now) {}

  start(complete: () => OperationOutcome): FakeOperation {
    const operation: FakeOperation = { id: randomUUID(), startedAt: this.now(), polls: 0, status: 'InProgress', complete };
    this.operations.set(operation.id, operation);
    return operation;
  }

  /** The headers of an answer that leaves the work to `operation`. */
  headers(operation: FakeOperation, forms: { asyncOperation?: boolean; location?: boolean; retryAfterSeconds?: number } = { asyncOperation: true, location: true }): Record<string, string> {
    const headers: Record<string, string> = { 'retry-after': String(forms.retryAfterSeconds ?? this.pacing.retryAfterSeconds) };
    if (forms.asyncOperation) headers['azure-asyncoperation'] = `${this.base()}/mfeOperationsStatus/${operation.id}?api-version=2024-04-01`;
    if (forms.location) headers.location = `${this.base()}/mfeOperationResults/${operation.id}?api-version=2024-04-01`;
    return headers;
  }

  get(id: string): FakeOperation | undefined {
    return this.operations.get(id);
  }

  /** One poll: counts towards completion. */
  poll(id: string): FakeOperation | undefined {
    const operation = this.operations.get(id);
    if (!operation) return undefined;
    operation.polls += 1;
    this.settle(operation);
    return operation;
  }

  /** Completes every operation whose time has come; called before any resource is read. */
  tick(): void {
    for (const operation of this.operations.values()) this.settle(operation);
  }

  /** Whether any operation is still running. */
  busy(): boolean {
    this.tick();
    return [...this.operations.values()].some((operation) => operation.status === 'InProgress');
  }

  private settle(operation: FakeOperation): void {
    if (operation.status !== 'InProgress') return;
    if (operation.polls < this.pacing.polls && this.now() - operation.startedAt < this.pacing.afterMs) return;
    const outcome = operation.complete();
    operation.status = outcome.status;
    operation.endTime = new Date(this.now()).toISOString();
    if (outcome.status === 'Failed') operation.error = outcome.error;
  }

  /** The status document, as ARM's async operation pattern defines it. */
  document(operation: FakeOperation): Record<string, unknown> {
    return {
      id: `${new URL(this.base()).pathname}/mfeOperationsStatus/${operation.id}`,
      name: operation.id,
      status: operation.status,
      startTime: new Date(operation.startedAt).toISOString(),
      ...(operation.endTime ? { endTime: operation.endTime } : {}),
      ...(operation.error ? { error: operation.error } : {}),
    };
  }
}

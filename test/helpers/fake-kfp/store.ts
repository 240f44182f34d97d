import { randomUUID } from 'node:crypto';

/** Run and task states in v2 spelling; ERROR exists only in v1 (Argo's Error phase). */
export type RunState = 'PENDING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'SKIPPED' | 'CANCELING' | 'CANCELED' | 'ERROR';

/** From `atMs` after its creation on, a run is in `state`, and the named tasks in theirs. */
export interface RunStep {
  atMs: number;
  state: RunState;
  tasks?: Record<string, RunState>;
  error?: string;
}

/** Makes the schedule of a new run from the names of its pipeline's tasks. Tests choose it. */
export type RunPlan = (taskNames: string[]) => RunStep[];

const TERMINAL = new Set<RunState>(['SUCCEEDED', 'FAILED', 'SKIPPED', 'CANCELED', 'ERROR']);
/** How long a terminated run stays CANCELING before it is CANCELED. */
export const CANCELING_MS = 300;

/**
 * Pending at first, then each task running and succeeding in turn, the run ending in `end` after
 * `durationMs`; the last task takes the end state.
 */
export function standardPlan(options: { durationMs?: number; end?: RunState; error?: string } = {}): RunPlan {
  const duration = options.durationMs ?? 3_000;
  const end = options.end ?? 'SUCCEEDED';
  return (taskNames) => {
    const start = Math.min(300, duration / 10);
    const slice = (duration - start) / Math.max(1, taskNames.length);
    const steps: RunStep[] = [{ atMs: 0, state: 'PENDING' }];
    taskNames.forEach((task, index) => {
      const tasks: Record<string, RunState> = { [task]: 'RUNNING' };
      const previous = taskNames[index - 1];
      if (previous) tasks[previous] = 'SUCCEEDED';
      steps.push({ atMs: start + index * slice, state: 'RUNNING', tasks });
    });
    const last = taskNames.at(-1);
    steps.push({ atMs: duration, state: end, tasks: last ? { [last]: end } : {}, error: options.error });
    return steps;
  };
}

export interface StoredPipeline {
  id: string;
  name: string;
  namespace: string;
  description: string;
  createdAt: number;
}

export interface StoredVersion {
  id: string;
  pipelineId: string;
  name: string;
  description: string;
  createdAt: number;
  /** The uploaded YAML as sent. */
  text: string;
  documents: unknown[];
}

export interface StoredExperiment {
  id: string;
  name: string;
  namespace: string;
  createdAt: number;
}

export interface StoredRun {
  id: string;
  name: string;
  api: 'v2beta1' | 'v1beta1';
  experimentId: string;
  pipelineId: string;
  versionId: string;
  namespace: string;
  /** As sent: v2 JSON values by name, v1 strings by name. */
  parameters: Record<string, unknown>;
  createdAt: number;
  steps: RunStep[];
  taskNames: string[];
  terminatedAt?: number;
  /** When each GET of the run was answered. */
  polls: number[];
  /** When a GET first answered with the run's terminal state. */
  endSeenAt?: number;
}

export interface RunSnapshot {
  state: RunState;
  tasks: Record<string, RunState>;
  finishedAt?: number;
  error?: string;
}

/** What a fake KFP server holds: pipelines, versions, experiments and runs that move through their states. */
export class FakeKfpStore {
  readonly pipelines = new Map<string, StoredPipeline>();
  readonly versions = new Map<string, StoredVersion>();
  readonly experiments = new Map<string, StoredExperiment>();
  readonly runs = new Map<string, StoredRun>();
  private tick = 0;

  /** Creation times strictly increase, so "newest first" is well defined within a millisecond. */
  now(): number {
    this.tick = Math.max(this.tick + 1, Date.now());
    return this.tick;
  }

  addPipeline(name: string, namespace = '', description = ''): StoredPipeline {
    const pipeline = { id: randomUUID(), name, namespace, description, createdAt: this.now() };
    this.pipelines.set(pipeline.id, pipeline);
    return pipeline;
  }

  addVersion(pipelineId: string, name: string, text: string, documents: unknown[], description = ''): StoredVersion {
    const version = { id: randomUUID(), pipelineId, name, description, createdAt: this.now(), text, documents };
    this.versions.set(version.id, version);
    return version;
  }

  addExperiment(name: string, namespace = ''): StoredExperiment {
    const experiment = { id: randomUUID(), name, namespace, createdAt: this.now() };
    this.experiments.set(experiment.id, experiment);
    return experiment;
  }

  versionsOf(pipelineId: string): StoredVersion[] {
    return [...this.versions.values()].filter((version) => version.pipelineId === pipelineId);
  }

  /** Where a run is at a moment: the plan's last step reached, or CANCELING then CANCELED after a terminate. */
  snapshot(run: StoredRun, now = Date.now()): RunSnapshot {
    let state: RunState = 'PENDING';
    let tasks: Record<string, RunState> = {};
    let finishedAt: number | undefined;
    let error: string | undefined;
    for (const step of run.steps) {
      const at = run.createdAt + step.atMs;
      if (at > now || (run.terminatedAt !== undefined && at > run.terminatedAt)) break;
      state = step.state;
      tasks = { ...tasks, ...step.tasks };
      error = step.error ?? error;
      if (TERMINAL.has(step.state)) finishedAt = at;
    }
    if (run.terminatedAt !== undefined && finishedAt === undefined) {
      const cancelled = now >= run.terminatedAt + CANCELING_MS;
      state = cancelled ? 'CANCELED' : 'CANCELING';
      if (cancelled) {
        finishedAt = run.terminatedAt + CANCELING_MS;
        tasks = Object.fromEntries(Object.entries(tasks).map(([name, task]) => [name, TERMINAL.has(task) ? task : 'CANCELED']));
      }
    }
    return { state, tasks, finishedAt, error };
  }

  isTerminal(state: RunState): boolean {
    return TERMINAL.has(state);
  }

  /** When the plan ends the run, if it does. */
  plannedEnd(run: StoredRun): number | undefined {
    const step = run.steps.find((candidate) => TERMINAL.has(candidate.state));
    return step ? run.createdAt + step.atMs : undefined;
  }

  counts(): { pipelines: number; versions: number; experiments: number; runs: number } {
    return { pipelines: this.pipelines.size, versions: this.versions.size, experiments: this.experiments.size, runs: this.runs.size };
  }
}

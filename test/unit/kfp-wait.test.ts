import type { ApiVersion, KfpApi, KfpRunStatus } from '../../shared/kfp/api.js';
import { KfpError } from '../../shared/kfp/client.js';
import { isTerminal, normalizeState } from '../../shared/kfp/states.js';
import { MAX_POLL_MS, pollDelayMs, waitForRun } from '../../shared/kfp/wait.js';
import { NetworkError } from '../../shared/http/request.js';

function status(version: ApiVersion, state: string, tasks: Record<string, string> = {}): KfpRunStatus {
  const normalized = normalizeState(state);
  return {
    id: 'run-1',
    name: 'run',
    state: normalized,
    finished: isTerminal(version, normalized),
    tasks: Object.entries(tasks).map(([name, task]) => ({ id: name, name, state: task })),
  };
}

/** An API whose getRun answers from a script, one entry a poll (the last one repeats). */
function scripted(answers: (KfpRunStatus | Error)[]): KfpApi & { polls: number } {
  const api = {
    polls: 0,
    version: 'v2beta1',
    async getRun() {
      const answer = answers[Math.min(api.polls++, answers.length - 1)]!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return api as unknown as KfpApi & { polls: number };
}

const fast = () => 5;

describe('the poll schedule', () => {
  test('2, 3 and 5 s, then 8 s, each within 5 % (the jitter)', () => {
    expect([0, 1, 2, 3, 10].map((poll) => pollDelayMs(poll, () => 0.5))).toEqual([2000, 3000, 5000, 8000, 8000]);
    for (let poll = 0; poll < 50; poll++) {
      for (const random of [0, 0.999]) {
        const delay = pollDelayMs(poll, () => random);
        expect(delay).toBeLessThanOrEqual(MAX_POLL_MS * 1.05);
        expect(delay).toBeGreaterThanOrEqual(1900);
      }
    }
  });

  test('meets both targets for any run length: the end is seen within 10 s, at most 10 calls in any minute', () => {
    for (const random of [0, 0.5, 0.999]) {
      const times: number[] = [];
      for (let at = 0, poll = 0; at < 30 * 60_000; poll++) times.push((at += pollDelayMs(poll, () => random)));
      const gaps = times.map((time, index) => time - (times[index - 1] ?? 0));
      expect(Math.max(...gaps)).toBeLessThan(10_000);
      for (let start = 0; start < 29 * 60_000; start += 1_000) {
        expect(times.filter((time) => time > start && time <= start + 60_000).length).toBeLessThanOrEqual(10);
      }
    }
  });
});

describe('waitForRun', () => {
  test('reports the run state first, then each task whose state changed, and ends on SUCCEEDED', async () => {
    const api = scripted([
      status('v2beta1', 'RUNNING', { preprocess: 'RUNNING' }),
      status('v2beta1', 'RUNNING', { preprocess: 'RUNNING' }),
      status('v2beta1', 'RUNNING', { preprocess: 'SUCCEEDED', train: 'RUNNING' }),
      status('v2beta1', 'SUCCEEDED', { preprocess: 'SUCCEEDED', train: 'SUCCEEDED' }),
    ]);
    const seen: string[] = [];
    const result = await waitForRun({
      api,
      run: status('v2beta1', 'PENDING'),
      deadline: Date.now() + 10_000,
      signal: new AbortController().signal,
      delayMs: fast,
      onRunState: (run) => seen.push(`run ${run.state}`),
      onTaskState: (task) => seen.push(`${task.name} ${task.state}`),
    });
    expect(result).toMatchObject({ outcome: 'finished', polls: 4, status: { state: 'SUCCEEDED' } });
    expect(seen).toEqual(['run RUNNING', 'preprocess RUNNING', 'preprocess SUCCEEDED', 'train RUNNING', 'run SUCCEEDED', 'train SUCCEEDED']);
  });

  test.each([
    ['v2beta1', 'SKIPPED'],
    ['v2beta1', 'FAILED'],
    ['v2beta1', 'CANCELED'],
    ['v1beta1', 'Succeeded'],
    ['v1beta1', 'Skipped'],
    ['v1beta1', 'Failed'],
    ['v1beta1', 'Error'],
  ] as const)('%s state %s ends the wait', async (version, state) => {
    const api = scripted([status(version, 'Running'), status(version, state)]);
    const result = await waitForRun({ api, run: status(version, 'Pending'), deadline: Date.now() + 5_000, signal: new AbortController().signal, delayMs: fast });
    expect(result.outcome).toBe('finished');
    expect(result.status.state).toBe(state.toUpperCase());
  });

  test('CANCELING and Terminating are not the end: the wait goes on until the run is over', async () => {
    const api = scripted([status('v2beta1', 'CANCELING'), status('v2beta1', 'CANCELING'), status('v2beta1', 'CANCELED')]);
    const result = await waitForRun({ api, run: status('v2beta1', 'RUNNING'), deadline: Date.now() + 5_000, signal: new AbortController().signal, delayMs: fast });
    expect(result).toMatchObject({ outcome: 'finished', polls: 3 });
    expect(isTerminal('v1beta1', 'TERMINATING')).toBe(false);
  });

  test('stops at the deadline with the last state seen', async () => {
    const api = scripted([status('v2beta1', 'RUNNING')]);
    const started = Date.now();
    const result = await waitForRun({ api, run: status('v2beta1', 'PENDING'), deadline: started + 300, signal: new AbortController().signal, delayMs: () => 100 });
    expect(result.outcome).toBe('timeout');
    expect(result.status.state).toBe('RUNNING');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('a cancel interrupts the sleep between polls at once', async () => {
    const controller = new AbortController();
    const api = scripted([status('v2beta1', 'RUNNING')]);
    setTimeout(() => controller.abort(), 100);
    const started = Date.now();
    const result = await waitForRun({ api, run: status('v2beta1', 'PENDING'), deadline: started + 60_000, signal: controller.signal, delayMs: () => 30_000 });
    expect(result.outcome).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  test('network errors and 5xx are retried and reported; five in a row end the wait', async () => {
    const flaky = new NetworkError('GET', 'http://kfp/apis/v2beta1/runs/run-1', 'ECONNRESET', 'socket hang up');
    const busy = new KfpError('GET /apis/v2beta1/runs/run-1', 503, 'KFP GET /apis/v2beta1/runs/run-1 answered HTTP 503');
    const reported: number[] = [];
    const api = scripted([flaky, busy, status('v2beta1', 'SUCCEEDED')]);
    const result = await waitForRun({
      api,
      run: status('v2beta1', 'RUNNING'),
      deadline: Date.now() + 5_000,
      signal: new AbortController().signal,
      delayMs: fast,
      onPollError: (_error, count) => reported.push(count),
    });
    expect(result.outcome).toBe('finished');
    expect(reported).toEqual([1, 2]);
    const down = scripted([flaky]);
    await expect(waitForRun({ api: down, run: status('v2beta1', 'RUNNING'), deadline: Date.now() + 5_000, signal: new AbortController().signal, delayMs: fast })).rejects.toBe(flaky);
    expect(down.polls).toBe(5);
  });

  test('an error that will not pass (401) ends the wait at once', async () => {
    const refused = new KfpError('GET /apis/v2beta1/runs/run-1', 401, "KFP GET /apis/v2beta1/runs/run-1 answered HTTP 401: the server refused the credentials from input 'token': check it");
    const api = scripted([refused]);
    await expect(waitForRun({ api, run: status('v2beta1', 'RUNNING'), deadline: Date.now() + 5_000, signal: new AbortController().signal, delayMs: fast })).rejects.toBe(refused);
    expect(api.polls).toBe(1);
  });
});

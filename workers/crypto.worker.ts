/**
 * piscina task module for `CryptoPool`: runs one `{op, args}` from the shared op table and
 * answers with an outcome envelope (see `src/crypto/offload/task-protocol.ts`). It never throws for an
 * op's failure, so a rejection seen by the pool always means the pool or the thread failed.
 */
import { workerData } from "node:worker_threads";
import { isCryptoOpName, runCryptoOp } from "../src/crypto/offload/ops.ts";
import {
  encodeTaskError,
  isTestOp,
  type CrashArgs,
  type CryptoTask,
  type TaskOutcome,
} from "../src/crypto/offload/task-protocol.ts";
import { lowerThisThread } from "../src/crypto/offload/thread-priority.ts";

const data = workerData as { allowTestOps?: unknown; nice?: unknown } | null | undefined;
const allowTestOps = data?.allowTestOps === true;
// Before the first task: the event loop must win the CPU whenever it has work.
await lowerThisThread(typeof data?.nice === "number" ? data.nice : 0);

/** piscina calls the default export once per task. */
export default async function cryptoTask(task: CryptoTask): Promise<TaskOutcome> {
  const op = task?.op;
  try {
    if (isCryptoOpName(op)) return { ok: true, value: await runCryptoOp(op, task.args, "worker") };
    if (allowTestOps && isTestOp(op)) return crash(task.args as CrashArgs | null);
    return { ok: false, error: { expected: false, name: "UnknownCryptoOp" } };
  } catch (err) {
    return { ok: false, error: encodeTaskError(err) };
  }
}

/** The `crash` test op: kills this thread while its task is in flight. */
function crash(args: CrashArgs | null): Promise<never> {
  if (args?.how === "throw") {
    setImmediate(() => {
      throw new Error("crypto worker test crash");
    });
  } else {
    process.exit(70);
  }
  // Never settles: the task must be failed by the pool noticing the thread's death.
  return new Promise<never>(() => {});
}

/**
 * Hashing load for bench/argon2-thread.ts: hashes argon2id (Gatehouse's parameters, or another
 * memory cost) back to back until told to stop, either through @node-rs/argon2's async API or
 * its sync one, after lowering its own thread to `nice`. As a worker thread it reads
 * `workerData` and answers its count by message; as a child process (`--child nice sync m`) it
 * prints the count on SIGTERM.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { hash, hashSync, type Algorithm } from "@node-rs/argon2";
import { ARGON2_PARAMS } from "../../src/crypto/password.ts";
import { lowerThisThread } from "../../src/crypto/offload/thread-priority.ts";

interface Load { nice: number; sync: boolean; memoryCost: number }
const load: Load = isMainThread
  ? { nice: Number(process.argv[3]), sync: process.argv[4] === "sync", memoryCost: Number(process.argv[5]) }
  : (workerData as Load);
await lowerThisThread(load.nice);
const options = { ...ARGON2_PARAMS, memoryCost: load.memoryCost, algorithm: 2 as Algorithm };
let stop = false;
let count = 0;
if (isMainThread) process.on("SIGTERM", () => (stop = true));
else parentPort!.once("message", () => (stop = true));
while (!stop) {
  if (load.sync) hashSync("bench-password", options);
  else await hash("bench-password", options);
  count++;
  // Lets the stop message or signal in.
  await new Promise((resolve) => setImmediate(resolve));
}
if (isMainThread) {
  console.log(count);
  process.exit(0);
} else parentPort!.postMessage(count);

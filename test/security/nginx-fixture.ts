import { mkdtempSync, readFileSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../harness/services.ts";
import { ensureNginx, NGINX } from "../harness/apt.ts";

const root = new URL("../..", import.meta.url).pathname;

/** A real nginx (a child process on a loopback port, own config in a temp dir; never the system service). */
export interface NginxFixture {
  baseUrl: string;
  port: number;
  errorLog(): string;
  stop(): Promise<void>;
}

/** The README's forward-auth nginx block, verbatim. */
export function readmeNginxBlock(): string {
  const readme = readFileSync(`${root}README.md`, "utf8");
  const m = /```nginx\n(upstream gatehouse \{[\s\S]*?)```/.exec(readme);
  if (!m) throw new Error("README.md has no ```nginx block starting with `upstream gatehouse {`");
  return m[1]!;
}

/**
 * Starts nginx serving `serverBlock` (the README's, with `gatehouse:8080`, `app:3000` and
 * `listen 80` pointed at loopback ports) with one worker, and waits until it answers.
 */
export async function startNginx(serverBlock: string, targets: { gatehousePort: number; appPort: number }): Promise<NginxFixture> {
  await ensureNginx();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "gh-nginx-"));
  chmodSync(dir, 0o755);
  const block = serverBlock
    .replace("server gatehouse:8080;", `server 127.0.0.1:${targets.gatehousePort};`)
    .replace("http://app:3000", `http://127.0.0.1:${targets.appPort}`)
    .replace("listen 80;", `listen 127.0.0.1:${port};`);
  writeFileSync(join(dir, "nginx.conf"), `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${block}
}
`);
  const proc = Bun.spawn([NGINX, "-p", dir, "-c", join(dir, "nginx.conf")], { stdout: "ignore", stderr: "pipe" });
  const baseUrl = `http://127.0.0.1:${port}`;
  const errorLog = () => {
    try {
      return readFileSync(join(dir, "error.log"), "utf8");
    } catch {
      return "";
    }
  };
  for (let i = 0; i < 100; i++) {
    if (proc.exitCode !== null) throw new Error(`nginx exited (${proc.exitCode}): ${await new Response(proc.stderr as ReadableStream).text()}${errorLog()}`);
    const up = await fetch(`${baseUrl}/_nginx_probe_`, { redirect: "manual" }).then(() => true, () => false);
    if (up) break;
    await Bun.sleep(50);
  }
  return {
    baseUrl, port, errorLog,
    stop: async () => {
      proc.kill("SIGQUIT");
      await Promise.race([proc.exited, Bun.sleep(3000)]);
      if (proc.exitCode === null) proc.kill("SIGKILL");
      await proc.exited;
    },
  };
}

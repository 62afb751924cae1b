import { Counter, type Registry } from "prom-client";

/** Counts one SCIM request by resource (`Users`, `Groups`, discovery endpoints), operation and status code. */
export type ScimRequestCounter = (resource: string, op: string, status: number) => void;

/** Registers `gatehouse_scim_requests_total{resource,op,status}` (bounded labels: fixed resources, ops and HTTP codes). */
export function createScimMetrics(registry: Registry): ScimRequestCounter {
  const c = new Counter({
    name: "gatehouse_scim_requests_total",
    help: "SCIM 2.0 provisioning requests by resource, operation and HTTP status",
    labelNames: ["resource", "op", "status"],
    registers: [registry],
  });
  return (resource, op, status) => c.labels(resource, op, String(status)).inc();
}

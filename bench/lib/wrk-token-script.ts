/**
 * The wrk Lua script the request-path benches share: every request carries
 * `Authorization: Bearer` with the next token of a file (one per line), cycling.
 */
import { writeFileSync } from "node:fs";

/** Writes the token-cycling wrk script to `scriptPath`, reading tokens from `tokenFile`. */
export function writeTokenCycleScript(scriptPath: string, tokenFile: string): void {
  writeFileSync(scriptPath, `
local tokens = {}
for line in io.lines("${tokenFile}") do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", nil, { ["Authorization"] = "Bearer " .. tokens[(i % #tokens) + 1] })
end
`);
}

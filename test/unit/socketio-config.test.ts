import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/config/errors.ts";

describe("Socket.IO configuration (Open WebUI's variable names)", () => {
  test("defaults: served, websocket only, ping 25 s / 20 s, any origin", () => {
    expect(loadConfig({}).socketio).toEqual({ enabled: true, transports: ["websocket"], pingIntervalMs: 25_000, pingTimeoutMs: 20_000, corsOrigins: ["*"] });
  });

  test("ENABLE_WEBSOCKET_SUPPORT=false switches to long-polling only; CORS_ALLOW_ORIGIN is ;-separated; pings in seconds", () => {
    const c = loadConfig({
      ENABLE_WEBSOCKET_SUPPORT: "false", CORS_ALLOW_ORIGIN: "https://a.example; https://b.example",
      WEBSOCKET_SERVER_PING_INTERVAL: "10", WEBSOCKET_SERVER_PING_TIMEOUT: "5", GATEHOUSE_SOCKETIO: "off",
    }).socketio;
    expect(c).toEqual({ enabled: false, transports: ["polling"], pingIntervalMs: 10_000, pingTimeoutMs: 5_000, corsOrigins: ["https://a.example", "https://b.example"] });
  });

  for (const [name, value, expected] of [
    ["ENABLE_WEBSOCKET_SUPPORT", "maybe", "ENABLE_WEBSOCKET_SUPPORT: invalid value; expected true or false"],
    ["WEBSOCKET_SERVER_PING_INTERVAL", "0", "WEBSOCKET_SERVER_PING_INTERVAL: invalid value; expected a number from 1 to 200"],
    ["WEBSOCKET_SERVER_PING_TIMEOUT", "300", "WEBSOCKET_SERVER_PING_TIMEOUT: invalid value; expected a number from 1 to 200"],
    ["GATEHOUSE_SOCKETIO", "sometimes", "GATEHOUSE_SOCKETIO: invalid value; expected true or false"],
  ] as const) {
    test(`${name}=${value} is refused, naming the variable`, () => {
      let error: unknown;
      try {
        loadConfig({ [name]: value });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(name);
      expect((error as ConfigError).message).toBe(expected);
    });
  }
});

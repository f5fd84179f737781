// @ts-check
/**
 * The mock backend: same shape as the real one (ui/types/api.d.ts), canned answers, small
 * delays so progress states are visible. Scenarios (`?mock=<name>`):
 *   demo         the demo lab server; connecting succeeds
 *   empty        no servers at all
 *   connect-fails  the demo lab server; connecting fails with a host-unreachable error
 *   load-fails   listing servers fails
 * @typedef {import('./types/api').Api} Api
 * @typedef {import('./types/api').ServerEntry} ServerEntry
 */

/** @type {ServerEntry} */
const DEMO_SERVER = {
  id: "demo-lab",
  name: "Demo lab",
  host: "127.0.0.1",
  port: 2222,
  user: "root",
  hostKeyFingerprint: "SHA256:mockmockmockmockmockmockmockmockmockmockmoc",
  kind: "demo",
  scenario: "short-lifetime",
};

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} scenario @returns {Api} */
export function createMockApi(scenario) {
  return {
    kind: "mock",
    appInfo: async () => ({ name: "Odoo Session Doctor", version: "0.0.0-mock", demo: scenario !== "empty" }),
    listServers: async () => {
      await sleep(50);
      if (scenario === "load-fails") {
        throw { code: "demo_lab_unreadable", message: "The demo lab file could not be read.", hint: "Start the demo with scripts/demo." };
      }
      return scenario === "empty" ? [] : [DEMO_SERVER];
    },
    connect: async (serverId, onProgress) => {
      onProgress({ event: "step", data: { step: "connecting", message: `Connecting to ${DEMO_SERVER.host}:${DEMO_SERVER.port}…` } });
      await sleep(300);
      if (scenario === "connect-fails") {
        onProgress({ event: "finished" });
        throw { code: "unreachable", message: "The server did not answer on port 2222.", hint: "Check that the server is running and the address is right." };
      }
      onProgress({ event: "step", data: { step: "identifying", message: "Connected. Asking the server for its name…" } });
      await sleep(300);
      onProgress({ event: "finished" });
      return { serverId, hostName: "odoo-lab", hostKeyFingerprint: DEMO_SERVER.hostKeyFingerprint ?? "" };
    },
  };
}

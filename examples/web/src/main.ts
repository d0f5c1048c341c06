// The browser example's page: calls the example services with connect-web over
// gRPC-Web and over Connect, each in protobuf and in JSON, and writes each call's
// outcome into its own table cell (id `<transport>-<case>`), for a person to read and
// for examples/tests/browser.rs to check. `?api=<origin>` calls another origin than the
// page's own.

import { toJsonString } from "@bufbuild/protobuf";
import { ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { Greeter, NameTooLongSchema } from "../gen/helloworld_pb";
import { RouteGuide } from "../gen/route_guide_pb";

const api = new URLSearchParams(location.search).get("api") ?? location.origin;

// Every call has a deadline, so that a case that goes wrong ends instead of hanging.
const timeoutMs = 10_000;

// The HTTP method of the last request the transports sent, to show which calls Connect
// sent as GETs (interceptors see every request as a POST: the GET is made after them).
let lastMethod = "";
const fetch: typeof globalThis.fetch = (input, init) => {
  lastMethod = init?.method ?? "GET";
  return globalThis.fetch(input, init);
};

const transports: [string, Transport][] = [
  ["grpc-web", createGrpcWebTransport({ baseUrl: api, useBinaryFormat: true, fetch })],
  ["grpc-web-json", createGrpcWebTransport({ baseUrl: api, useBinaryFormat: false, fetch })],
  // Connect sends calls of methods without side effects (GetFeature) as GETs.
  ["connect", createConnectTransport({ baseUrl: api, useHttpGet: true, fetch })],
  [
    "connect-proto",
    createConnectTransport({ baseUrl: api, useBinaryFormat: true, useHttpGet: true, fetch }),
  ],
];

// `error: <code>: <message>` for a failure, with the type names of its details and
// those of them the page knows, decoded.
function describeError(error: unknown): string {
  const connectError = ConnectError.from(error);
  let text = `error: ${codeToString(connectError.code)}: ${connectError.rawMessage}`;
  if (connectError.details.length > 0) {
    const types = connectError.details.map((detail) =>
      "type" in detail ? detail.type : detail.desc.typeName,
    );
    const known = connectError
      .findDetails(NameTooLongSchema)
      .map((detail) => toJsonString(NameTooLongSchema, detail));
    text += `; details: ${types.join(", ")} ${known.join(", ")}`;
  }
  return text;
}

type Case = { id: string; call: string; run: (transport: Transport) => Promise<string> };

const degrees = (value: number) => value * 10_000_000;

const cases: Case[] = [
  {
    id: "say-hello",
    call: 'SayHello("web")',
    async run(transport) {
      let greeter = "missing";
      let chars = "missing";
      const reply = await createClient(Greeter, transport).sayHello(
        { name: "web" },
        {
          timeoutMs,
          // Custom metadata: a page of another origin sees it only if the server exposes it.
          onHeader: (headers) => (greeter = headers.get("x-greeter") ?? "missing"),
          onTrailer: (trailers) => (chars = trailers.get("x-name-chars") ?? "missing"),
        },
      );
      return `ok: ${reply.message} x-greeter=${greeter} x-name-chars=${chars}`;
    },
  },
  {
    id: "empty-name",
    call: 'SayHello("")',
    async run(transport) {
      const reply = await createClient(Greeter, transport).sayHello({ name: "" }, { timeoutMs });
      return `ok: ${reply.message}`;
    },
  },
  {
    id: "error-details",
    call: "SayHello(a long name)",
    async run(transport) {
      const name = "Wolfeschlegelsteinhausenbergerdorff";
      const reply = await createClient(Greeter, transport).sayHello({ name }, { timeoutMs });
      return `ok: ${reply.message}`;
    },
  },
  {
    id: "get-feature",
    call: "GetFeature(1°, 1°)",
    async run(transport) {
      const location = { latitude: degrees(1), longitude: degrees(1) };
      const feature = await createClient(RouteGuide, transport).getFeature(location, {
        timeoutMs,
      });
      return `ok: ${feature.name} by ${lastMethod}`;
    },
  },
  {
    id: "list-features",
    call: "ListFeatures(0°..2°)",
    async run(transport) {
      const rectangle = {
        lo: { latitude: 0, longitude: 0 },
        hi: { latitude: degrees(2), longitude: degrees(2) },
      };
      const names: string[] = [];
      for await (const feature of createClient(RouteGuide, transport).listFeatures(rectangle, {
        timeoutMs,
      })) {
        names.push(feature.name);
      }
      return `ok: ${names.join(", ")}`;
    },
  },
  {
    id: "list-features-error",
    call: "ListFeatures(no corners)",
    async run(transport) {
      const names: string[] = [];
      for await (const feature of createClient(RouteGuide, transport).listFeatures(
        {},
        { timeoutMs },
      )) {
        names.push(feature.name);
      }
      return `ok: ${names.join(", ")}`;
    },
  },
];

async function main() {
  document.getElementById("api")!.textContent = api;
  const table = document.getElementById("results") as HTMLTableSectionElement;
  // One call at a time, so that lastMethod is the method of the call at hand.
  for (const [name, transport] of transports) {
    for (const { id, call, run } of cases) {
      const row = table.insertRow();
      row.insertCell().textContent = name;
      row.insertCell().textContent = call;
      const result = row.insertCell();
      result.id = `${name}-${id}`;
      result.className = "case";
      result.textContent = "pending";
      result.textContent = await run(transport).catch(describeError);
    }
  }
  document.body.dataset.done = "true";
}

void main();

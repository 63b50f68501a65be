// js_lookup.mjs - the AWS SDK for JavaScript v3 side of it_serve.sh: the recipe's
// LookupEvents call (StartTime, EndTime, LookupAttributes; only the endpoint is
// changed) and the SDK paginator. Prints event ids, one per line.
//   node js_lookup.mjs ENDPOINT recipe START END PROJECT_ARN
//   node js_lookup.mjs ENDPOINT paginate START END [KEY=VALUE ...]
//   node js_lookup.mjs ENDPOINT error JSON_PARAMS
// Credentials and region come from the environment.
import {
  CloudTrailClient,
  LookupEventsCommand,
  paginateLookupEvents,
} from "@aws-sdk/client-cloudtrail";

const [endpoint, mode, ...rest] = process.argv.slice(2);
const client = new CloudTrailClient({ endpoint, maxAttempts: 1 });

async function getCodeBuildEvents(startTime, endTime, projectArn) {
  const response = await client.send(
    new LookupEventsCommand({
      LookupAttributes: [{ AttributeKey: "ResourceName", AttributeValue: projectArn }],
      StartTime: startTime,
      EndTime: endTime,
    }),
  );
  return response.Events;
}

if (mode === "recipe") {
  const events = await getCodeBuildEvents(new Date(rest[0]), new Date(rest[1]), rest[2]);
  for (const e of events) console.log(e.EventId);
} else if (mode === "paginate") {
  const attrs = rest.slice(2).map((a) => {
    const i = a.indexOf("=");
    return { AttributeKey: a.slice(0, i), AttributeValue: a.slice(i + 1) };
  });
  const input = { StartTime: new Date(rest[0]), EndTime: new Date(rest[1]) };
  if (attrs.length) input.LookupAttributes = attrs;
  let pages = 0;
  const out = [];
  for await (const page of paginateLookupEvents({ client }, input)) {
    pages++;
    for (const e of page.Events) out.push(e.EventId);
  }
  process.stdout.write(out.length ? out.join("\n") + "\n" : "");
  console.error("pages", pages);
} else if (mode === "error") {
  const params = JSON.parse(rest[0]);
  for (const k of ["StartTime", "EndTime"]) if (k in params) params[k] = new Date(params[k]);
  try {
    const r = await client.send(new LookupEventsCommand(params));
    console.log("OK", r.$metadata.httpStatusCode, r.Events.length);
  } catch (e) {
    console.log(e.name, e.$metadata ? e.$metadata.httpStatusCode : "-");
  }
} else {
  console.error("unknown mode " + mode);
  process.exit(2);
}

// Reads a pprof (profile.pb.gz) or speedscope file with readers that are not
// pyprofd's, checks it, and prints what it holds as plain JSON for the tests:
// every stack as frame labels root first ("function (file:line)", pyprofd's own
// label form) with its values. Exit 1 with the reason when the file is not valid.
//
//   node read_profile.mjs pprof FILE
//   node read_profile.mjs speedscope FILE
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { Profile } from "pprof-format";
import Ajv from "ajv";

const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`read_profile: ${message}`);
  process.exit(1);
}

function label(name, file, line) {
  if (!file) return name;
  return line > 0 ? `${name} (${file}:${line})` : `${name} (${file})`;
}

function readPprof(path) {
  const raw = readFileSync(path);
  if (raw[0] !== 0x1f || raw[1] !== 0x8b) fail("not gzip'd (profile.pb.gz starts with 1f 8b)");
  const profile = Profile.decode(gunzipSync(raw));
  const strings = profile.stringTable.strings;
  if (strings[0] !== "") fail("string_table[0] must be the empty string");
  const str = (i) => {
    const n = Number(i);
    if (!(n >= 0 && n < strings.length)) fail(`string index ${n} outside the table of ${strings.length}`);
    return strings[n];
  };
  const functions = new Map();
  for (const f of profile.function) {
    if (Number(f.id) === 0) fail("function id 0");
    functions.set(Number(f.id), { name: str(f.name), file: str(f.filename), startLine: Number(f.startLine) });
  }
  const locations = new Map();
  for (const l of profile.location) {
    if (Number(l.id) === 0) fail("location id 0");
    if (l.line.length === 0) fail(`location ${l.id} has no line`);
    // Inlined functions would come first in `line`; pyprofd writes one per location.
    const line = l.line[l.line.length - 1];
    const f = functions.get(Number(line.functionId));
    if (!f) fail(`location ${l.id} names function ${line.functionId}, which is not in the profile`);
    locations.set(Number(l.id), label(f.name, f.file, Number(line.line)));
  }
  const sampleTypes = profile.sampleType.map((t) => [str(t.type), str(t.unit)]);
  const stacks = profile.sample.map((s) => {
    if (s.value.length !== sampleTypes.length) fail(`a sample has ${s.value.length} values for ${sampleTypes.length} types`);
    const frames = s.locationId.map((id) => {
      const l = locations.get(Number(id));
      if (l === undefined) fail(`a sample names location ${id}, which is not in the profile`);
      return l;
    }).reverse();  // pprof lists the leaf first
    const labels = {};
    for (const l of s.label) labels[str(l.key)] = Number(l.str) ? str(l.str) : Number(l.num);
    return { frames, values: s.value.map(Number), labels };
  });
  return {
    sample_types: sampleTypes,
    period_type: profile.periodType ? [str(profile.periodType.type), str(profile.periodType.unit)] : null,
    period: Number(profile.period),
    default_sample_type: str(profile.defaultSampleType),
    time_nanos: Number(profile.timeNanos),
    duration_nanos: Number(profile.durationNanos),
    comments: profile.comment.map(str),
    functions: [...functions.values()],
    stacks,
  };
}

function readSpeedscope(path) {
  let file;
  try {
    file = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    fail(`not JSON: ${e.message}`);
  }
  const schema = require("speedscope/dist/release/file-format-schema.json");
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile(schema);
  if (!validate(file)) fail(`does not follow speedscope's schema: ${ajv.errorsText(validate.errors)}`);
  const frames = file.shared.frames;
  const profiles = file.profiles.map((p) => {
    if (p.type !== "sampled") fail(`profile ${p.name} is ${p.type}, not sampled`);
    if (p.samples.length !== p.weights.length) fail(`profile ${p.name}: ${p.samples.length} samples, ${p.weights.length} weights`);
    const stacks = p.samples.map((stack, i) => ({
      frames: stack.map((index) => {
        const f = frames[index];
        if (f === undefined) fail(`profile ${p.name} names frame ${index} of ${frames.length}`);
        return label(f.name, f.file, f.line);
      }),
      weight: p.weights[i],
    }));
    const sum = p.weights.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - (p.endValue - p.startValue)) > 1e-6 * Math.max(1, sum))
      fail(`profile ${p.name}: weights sum to ${sum}, but it spans ${p.endValue - p.startValue}`);
    return { name: p.name, unit: p.unit, stacks };
  });
  return { name: file.name, exporter: file.exporter, frame_count: frames.length, profiles };
}

const [kind, path] = process.argv.slice(2);
if (!path) fail("usage: node read_profile.mjs pprof|speedscope FILE");
const result = kind === "pprof" ? readPprof(path) : kind === "speedscope" ? readSpeedscope(path) : fail(`unknown kind ${kind}`);
process.stdout.write(JSON.stringify(result) + "\n");

// main.ts, Geo: one describe per command. The differential suite compares short scripts with a real
// Redis (every option and error, and a walk of random searches near the poles, the date line and the
// equator, in Redis's own result order); these tests check what a script of a few points cannot:
//   - a 20k-point set (Europe, both sides of the date line, the far north, around 0,0) against a JS
//     model of Redis's geohash and haversine: every score, a quarter's GEOHASH and GEOPOS, GEODISTs,
//     and searches by radius and by box, in every unit, whose results must be exactly the points a
//     brute-force scan of all 20k finds (as sets, with their distances as Redis prints them; COUNT's
//     nearest in order), and the sets the STORE forms write;
//   - what other clients see: a client blocked in BZPOPMIN on a STORE destination is served,
//     keyspace notifications, WATCH, MONITOR, and GEOADD reaching a replica as ZADD;
//   - ACL: a STORE destination needs write access to its key, and a +@read user has the _RO forms.
// The model and every expected reply were checked by running these tests against redis-server 7.0.15.
import { describe, test, expect, afterEach, afterAll } from "bun:test";
import { pipeline, seededRandom, sharedServer, spawnServer, tapReplication, arr, bulk, bulks, int, keyspaceEvents, keyspaceEvent, asAclUser, NOPERM_KEYS } from "./helpers.ts";
import { RawClient, decode, type Reply } from "./client.ts";

// ---------------------------------------------------------------------------------------------
// The model: Redis's geohash (26 bits per coordinate over its Web Mercator latitude range,
// latitude in the even bits of the 52-bit score) and its haversine distance.

const LAT_MIN = -85.05112878, LAT_MAX = 85.05112878, LON_MIN = -180, LON_MAX = 180;
const EARTH_RADIUS = 6372797.560856;
const D_R = Math.PI / 180;
const UNITS = { m: 1, km: 1000, mi: 1609.34, ft: 0.3048 } as const;
type Unit = keyof typeof UNITS;

/** A coordinate's 26-bit cell index over [min, max]: the offset scaled to 2^26, truncated. */
const cellIndex = (x: number, min: number, max: number): number => Math.trunc(((x - min) / (max - min)) * 2 ** 26);

/** Two 26-bit indexes interleaved into 52 bits, `even` in the even bits. */
function interleave(even: number, odd: number): number {
  let bits = 0;
  for (let i = 0; i < 26; i++) bits += ((even >>> i) & 1) * 2 ** (2 * i) + ((odd >>> i) & 1) * 2 ** (2 * i + 1);
  return bits;
}

/** The two indexes of a 52-bit score, [even, odd]. */
function deinterleave(bits: number): [number, number] {
  let even = 0, odd = 0;
  for (let i = 0; i < 26; i++) {
    even += (Math.floor(bits / 2 ** (2 * i)) % 2) * 2 ** i;
    odd += (Math.floor(bits / 2 ** (2 * i + 1)) % 2) * 2 ** i;
  }
  return [even, odd];
}

/** GEOADD's score for a position. */
const geoScore = (lon: number, lat: number): number => interleave(cellIndex(lat, LAT_MIN, LAT_MAX), cellIndex(lon, LON_MIN, LON_MAX));

/** The position a score stands for: the centre of its cell, [lon, lat]. */
function geoDecode(score: number): [number, number] {
  const [latIndex, lonIndex] = deinterleave(score);
  const centre = (i: number, min: number, max: number) => {
    const lo = min + (i / 2 ** 26) * (max - min), hi = min + ((i + 1) / 2 ** 26) * (max - min);
    return Math.min(Math.max((lo + hi) / 2, min), max);
  };
  return [centre(lonIndex, LON_MIN, LON_MAX), centre(latIndex, LAT_MIN, LAT_MAX)];
}

const GEOHASH_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz";

/** GEOHASH's string: the cell centre encoded again over the standard -90..90, ten 5-bit
 *  characters and a "0" for the bits a score does not have. */
function geohashString(score: number): string {
  const [lon, lat] = geoDecode(score);
  const bits = interleave(cellIndex(lat, -90, 90), cellIndex(lon, LON_MIN, LON_MAX));
  let s = "";
  for (let i = 0; i < 10; i++) s += GEOHASH_ALPHABET[Math.floor(bits / 2 ** (52 - (i + 1) * 5)) % 32];
  return s + "0";
}

/** Redis's great-circle distance in meters (haversine; along the meridian when the longitudes agree). */
function haversine(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const v = Math.sin((lon2 * D_R - lon1 * D_R) / 2);
  if (v === 0) return EARTH_RADIUS * Math.abs(lat2 * D_R - lat1 * D_R);
  const lat1r = lat1 * D_R, lat2r = lat2 * D_R;
  const u = Math.sin((lat2r - lat1r) / 2);
  return 2 * EARTH_RADIUS * Math.asin(Math.sqrt(u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v));
}

/** A distance as Redis prints it: scaled by 10^4, rounded half to even (llrint), 4 decimals. */
function distString(d: number): string {
  if (d === 0) return "0.0000";
  const x = d * 10000;
  let n = Math.round(x);
  if (n - x === 0.5 && n % 2 !== 0) n -= 1;
  return `${Math.floor(n / 10000)}.${String(n % 10000).padStart(4, "0")}`;
}

/** A coordinate as GEOPOS and WITHCOORD print it: %.17Lf without its trailing zeros. */
const coordString = (x: number): string => x.toFixed(17).replace(/\.?0+$/, "");

// ---------------------------------------------------------------------------------------------
// The 20k points, key "pts", members p0 .. p19999.

interface Point { name: string; lonArg: string; latArg: string; score: number; lon: number; lat: number }

const REGIONS = [
  { from: 0, lon: [-10, 30], lat: [35, 60] }, // Europe
  { from: 10000, lon: [170, 190], lat: [-50, -30] }, // both sides of the date line (above 180 wraps to -180..)
  { from: 14000, lon: [0, 60], lat: [70, 85] }, // the far north
  { from: 17000, lon: [-5, 5], lat: [-5, 5] }, // around 0,0: every sign
];
const N = 20000;

const POINTS: Point[] = (() => {
  const rnd = seededRandom(2024);
  const out: Point[] = [];
  for (let i = 0; i < N; i++) {
    const r = [...REGIONS].reverse().find((g) => i >= g.from)!;
    let lon = r.lon[0] + rnd() * (r.lon[1] - r.lon[0]);
    if (lon > 180) lon -= 360;
    const lonArg = lon.toFixed(6), latArg = (r.lat[0] + rnd() * (r.lat[1] - r.lat[0])).toFixed(6);
    const score = geoScore(Number(lonArg), Number(latArg));
    const [dlon, dlat] = geoDecode(score);
    out.push({ name: `p${i}`, lonArg, latArg, score, lon: dlon, lat: dlat });
  }
  return out;
})();
const BY_NAME = new Map(POINTS.map((p) => [p.name, p]));

// The points live in database 9, loaded once; the other tests start from an empty database 0
// (fresh() flushes only that one), and the file's afterAll empties database 9.
const POINTS_DB = 9;

/** A connection on database 9, where "pts" holds the 20k points. */
async function withPoints(): Promise<RawClient> {
  const c = await RawClient.connect((await sharedServer()).port);
  expect(await c.raw("SELECT", POINTS_DB)).toBe("+OK\r\n");
  const last = POINTS[N - 1];
  if ((await c.raw("ZCARD", "pts")) === int(N) && (await c.raw("ZSCORE", "pts", last.name)) === bulk(String(last.score))) return c;
  await c.raw("FLUSHDB");
  const cmds: string[][] = [];
  for (let b = 0; b < N; b += 2000) cmds.push(["GEOADD", "pts", ...POINTS.slice(b, b + 2000).flatMap((p) => [p.lonArg, p.latArg, p.name])]);
  expect(await pipeline(c, cmds)).toEqual(cmds.map(() => int(2000)));
  return c;
}

/** A connection on an empty database 0 (the points in database 9 stay). */
async function fresh(): Promise<RawClient> {
  const c = await RawClient.connect((await sharedServer()).port);
  expect(await c.raw("FLUSHDB")).toBe("+OK\r\n");
  return c;
}

afterAll(async () => {
  const c = await RawClient.connect((await sharedServer()).port);
  await c.raw("SELECT", POINTS_DB);
  await c.raw("FLUSHDB");
  c.close();
});

/** What to search: a centre (its command arguments, and the position they name) and a shape. */
interface Query { centre: [number, number]; lonlat: [string, string] | null; member: string | null; radius?: string; width?: string; height?: string; unit: Unit }

/** Random queries near the regions' points: half centred on a member, half on coordinates;
 *  radii from 500 m to 500 km, boxes from 1 km to 1000 km a side, in every unit. */
function queries(seed: number, n: number, kind: "radius" | "box"): Query[] {
  const rnd = seededRandom(seed);
  const units = Object.keys(UNITS) as Unit[];
  const inUnit = (meters: number, unit: Unit) => (meters / UNITS[unit]).toFixed(2);
  const out: Query[] = [];
  for (let i = 0; i < n; i++) {
    const near = POINTS[Math.floor(rnd() * N)];
    const unit = units[i % units.length];
    let q: Query;
    if (i % 2) {
      q = { centre: [near.lon, near.lat], lonlat: null, member: near.name, unit };
    } else {
      let lon = near.lon + (rnd() - 0.5) * 2;
      if (lon > 180) lon -= 360;
      if (lon < -180) lon += 360;
      const lonArg = lon.toFixed(5), latArg = Math.max(-85, Math.min(85, near.lat + (rnd() - 0.5))).toFixed(5);
      q = { centre: [Number(lonArg), Number(latArg)], lonlat: [lonArg, latArg], member: null, unit };
    }
    if (kind === "radius") q.radius = inUnit(10 ** (2.7 + rnd() * 3), unit);
    else { q.width = inUnit(10 ** (3 + rnd() * 3), unit); q.height = inUnit(10 ** (3 + rnd() * 3), unit); }
    out.push(q);
  }
  return out;
}

/** GEOSEARCH's FROM... BY... arguments for a query. */
const searchArgs = (q: Query): string[] => [
  ...(q.member ? ["FROMMEMBER", q.member] : ["FROMLONLAT", ...q.lonlat!]),
  ...(q.radius ? ["BYRADIUS", q.radius, q.unit] : ["BYBOX", q.width!, q.height!, q.unit]),
];

interface Match { p: Point; dist: number }

/** Every point within the query's shape, by brute force, with its distance in the query's unit. */
function modelSearch(q: Query): Match[] {
  const [cx, cy] = q.centre, conv = UNITS[q.unit];
  const out: Match[] = [];
  for (const p of POINTS) {
    let d: number;
    if (q.radius) {
      d = haversine(cx, cy, p.lon, p.lat);
      if (d > Number(q.radius) * conv) continue;
    } else {
      if (EARTH_RADIUS * Math.abs(cy * D_R - p.lat * D_R) > (Number(q.height) * conv) / 2) continue;
      if (haversine(p.lon, p.lat, cx, p.lat) > (Number(q.width) * conv) / 2) continue;
      d = haversine(cx, cy, p.lon, p.lat);
    }
    out.push({ p, dist: d / conv });
  }
  return out;
}

/** Matches nearest first; fails if two distances tie (their order would be Redis's sort's). */
function nearestFirst(ms: Match[]): Match[] {
  const sorted = [...ms].sort((a, b) => a.dist - b.dist);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i].dist).not.toBe(sorted[i - 1].dist);
  return sorted;
}

/** [member, distance] pairs sorted by member, from a WITHDIST reply or from the model. */
const byMember = (pairs: [string, string][]) => [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const modelPairs = (ms: Match[]): [string, string][] => byMember(ms.map((m) => [m.p.name, distString(m.dist)]));
const replyPairs = (r: Reply): [string, string][] => byMember(r as [string, string][]);

/** Runs commands pipelined and returns their decoded replies. */
async function cmds(c: RawClient, commands: (string | number)[][]): Promise<Reply[]> {
  return (await pipeline(c, commands)).map((raw) => decode(Buffer.from(raw, "latin1"), 0)[0]);
}

// ---------------------------------------------------------------------------------------------
// Other clients: subscribers, blocked clients, ACL users, a replica.


let opened: RawClient[] = [];
afterEach(() => { for (const c of opened) c.close(); opened = []; });

/** Another connection to the shared server (no FLUSHALL), closed after the test. */
async function another(): Promise<RawClient> {
  const c = await RawClient.connect((await sharedServer()).port);
  opened.push(c);
  return c;
}

/** Sends a blocking command on w and returns once CLIENT LIST shows w blocked. */
async function block(ctl: RawClient, w: RawClient, ...args: (string | number)[]): Promise<void> {
  const id = await w.cmd("CLIENT", "ID");
  w.send(...args);
  const deadline = Date.now() + 3000;
  while (!/ flags=b /.test((await ctl.cmd("CLIENT", "LIST", "ID", id as number)) as string)) {
    if (Date.now() > deadline) throw new Error(`${args[0]} did not block`);
    await Bun.sleep(2);
  }
}


// ---------------------------------------------------------------------------------------------

describe("GEOADD", () => {
  test("gives each of 20k points the model's 52-bit score", async () => {
    const c = await withPoints();
    for (let b = 0; b < N; b += 5000) {
      const slice = POINTS.slice(b, b + 5000);
      const scores = (await c.cmd("ZMSCORE", "pts", ...slice.map((p) => p.name))) as string[];
      expect(scores.map(Number)).toEqual(slice.map((p) => p.score));
    }
    c.close();
  });

  test("notifies zadd only when a member is added or moved", async () => {
    const c = await fresh();
    const got = await keyspaceEvents(c, async () => {
      expect(await c.raw("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")).toBe(int(2));
      expect(await c.raw("GEOADD", "g", "13.361389", "38.115556", "Palermo")).toBe(int(0));
      expect(await c.raw("GEOADD", "g", "CH", "13.361389", "38.115556", "Palermo")).toBe(int(0));
      expect(await c.raw("GEOADD", "g", "XX", "1", "1", "nope")).toBe(int(0));
      expect(await c.raw("GEOADD", "g", "NX", "1", "1", "Palermo")).toBe(int(0));
      expect(await c.raw("GEOADD", "g", "CH", "13.5", "38.1", "Palermo")).toBe(int(1));
    });
    expect(got).toEqual([...keyspaceEvent("zadd", "g"), ...keyspaceEvent("zadd", "g")]);
    c.close();
  });

  test("a GEOADD that changes nothing leaves a WATCH alone; one that moves a member aborts the EXEC", async () => {
    const c = await fresh();
    const other = await another();
    await c.raw("GEOADD", "g", "1", "2", "m");
    for (const [lat, reply] of [["2", arr("+PONG\r\n")], ["3", "*-1\r\n"]]) {
      expect(await c.raw("WATCH", "g")).toBe("+OK\r\n");
      expect(await other.raw("GEOADD", "g", "1", lat, "m")).toBe(int(0));
      expect(await c.raw("MULTI")).toBe("+OK\r\n");
      expect(await c.raw("PING")).toBe("+QUEUED\r\n");
      expect(await c.raw("EXEC")).toBe(reply);
    }
    c.close();
  });

  test("in MULTI it is queued, and EXEC's replies hold it and the reads after it", async () => {
    const c = await fresh();
    expect(await c.raw("MULTI")).toBe("+OK\r\n");
    for (const cmd of [
      ["GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
      ["GEOHASH", "g", "Palermo"],
      ["GEOSEARCH", "g", "FROMMEMBER", "Palermo", "BYRADIUS", "200", "km", "ASC", "WITHDIST"],
      ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"],
      ["ZCARD", "d"],
    ]) expect(await c.raw(...cmd)).toBe("+QUEUED\r\n");
    expect(await c.raw("EXEC")).toBe(arr(int(2), bulks("sqc8b49rny0"),
      arr(arr(bulk("Palermo"), bulk("0.0000")), arr(bulk("Catania"), bulk("166.2742"))), int(2), int(2)));
    c.close();
  });

  test("MONITOR shows GEOADD as sent; a replica receives ZADD with the scores (flags kept), nothing when nothing changed", async () => {
    const c = await fresh();
    const monitor = await another();
    expect(await monitor.raw("MONITOR")).toBe("+OK\r\n");
    await c.raw("GEOADD", "g", "XX", "CH", "13.361389", "38.115556", "Palermo");
    expect(await monitor.readRaw()).toEndWith(`"GEOADD" "g" "XX" "CH" "13.361389" "38.115556" "Palermo"\r\n`);
    c.close();

    const s = await spawnServer();
    try {
      const tap = await tapReplication(s.port);
      const m = await RawClient.connect(s.port);
      expect(await m.raw("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")).toBe(int(2));
      expect(await m.raw("GEOADD", "g", "XX", "CH", "1", "2", "Palermo", "3", "4", "nope")).toBe(int(1));
      expect(await m.raw("GEOADD", "g", "NX", "1", "2", "Palermo")).toBe(int(0));
      expect(await m.raw("GEOADD", "g", "1", "2", "Palermo")).toBe(int(0));
      expect(await m.raw("SET", "end", "1")).toBe("+OK\r\n");
      const deadline = Date.now() + 5000;
      while (!tap.writes().some((a) => a[0] === "SET")) {
        if (Date.now() > deadline) throw new Error(JSON.stringify(tap.writes()));
        await Bun.sleep(5);
      }
      const score = (lon: number, lat: number) => String(geoScore(lon, lat));
      expect(score(13.361389, 38.115556)).toBe("3479099956230698"); // as redis-server 7.0.15 sends it
      expect(tap.writes()).toEqual([
        ["SELECT", "0"],
        ["zadd", "g", score(13.361389, 38.115556), "Palermo", score(15.087269, 37.502669), "Catania"],
        ["zadd", "g", "XX", "CH", score(1, 2), "Palermo", score(3, 4), "nope"],
        ["SET", "end", "1"],
      ]);
      m.close();
      tap.close();
    } finally {
      await s.stop();
    }
  });
});

describe("GEOPOS", () => {
  test("answers 5000 of the 20k members (every 4th) with their cells' centres, printed as %.17Lf without trailing zeros", async () => {
    const c = await withPoints();
    const some = POINTS.filter((_, i) => i % 4 === 0);
    const batches: Point[][] = [];
    for (let b = 0; b < some.length; b += 1000) batches.push(some.slice(b, b + 1000));
    const replies = await pipeline(c, batches.map((ps) => ["GEOPOS", "pts", ...ps.map((p) => p.name)]));
    batches.forEach((ps, i) => expect(replies[i]).toBe(arr(...ps.map((p) => bulks(coordString(p.lon), coordString(p.lat))))));
    c.close();
  });
});

describe("GEODIST", () => {
  test("3000 random pairs, in every unit, as the haversine of their cell centres rounded to 4 decimals", async () => {
    const c = await withPoints();
    const rnd = seededRandom(7);
    const units = Object.keys(UNITS) as Unit[];
    const asked: [Point, Point, Unit][] = [];
    for (let i = 0; i < 3000; i++) {
      // Mostly pairs in one region (short distances), some across the world.
      const a = POINTS[Math.floor(rnd() * N)];
      const b = i % 4 ? POINTS[Math.min(N - 1, Math.max(0, Number(a.name.slice(1)) + Math.floor((rnd() - 0.5) * 200)))] : POINTS[Math.floor(rnd() * N)];
      asked.push([a, b, units[i % 4]]);
    }
    const replies = await pipeline(c, asked.map(([a, b, u]) => ["GEODIST", "pts", a.name, b.name, u]));
    expect(replies).toEqual(asked.map(([a, b, u]) => bulk(distString(haversine(a.lon, a.lat, b.lon, b.lat) / UNITS[u]))));
    c.close();
  });
});

describe("GEOHASH", () => {
  test("answers 5000 of the 20k members (every 4th) with the standard 11-character geohash of their cells' centres", async () => {
    const c = await withPoints();
    const some = POINTS.filter((_, i) => i % 4 === 1);
    expect(await c.cmd("GEOHASH", "pts", ...some.map((p) => p.name))).toEqual(some.map((p) => geohashString(p.score)));
    c.close();
  });
});

describe("GEOSEARCH", () => {
  test("BYRADIUS, around 60 centres in 4 units: exactly the points a brute-force haversine scan finds, with its distances", async () => {
    const c = await withPoints();
    const qs = queries(101, 60, "radius");
    const replies = await cmds(c, qs.map((q) => ["GEOSEARCH", "pts", ...searchArgs(q), "WITHDIST"]));
    let total = 0;
    qs.forEach((q, i) => {
      const want = modelSearch(q);
      total += want.length;
      expect([searchArgs(q), replyPairs(replies[i])]).toEqual([searchArgs(q), modelPairs(want)]);
    });
    expect(total).toBeGreaterThan(3000); // the queries are not all empty
    c.close();
  });

  test("BYBOX, around 60 centres in 4 units: exactly the points a brute-force scan of the box finds, with their distances", async () => {
    const c = await withPoints();
    const qs = queries(202, 60, "box");
    const replies = await cmds(c, qs.map((q) => ["GEOSEARCH", "pts", ...searchArgs(q), "WITHDIST"]));
    let total = 0;
    qs.forEach((q, i) => {
      const want = modelSearch(q);
      total += want.length;
      expect([searchArgs(q), replyPairs(replies[i])]).toEqual([searchArgs(q), modelPairs(want)]);
    });
    expect(total).toBeGreaterThan(1000);
    c.close();
  });

  test("ASC and DESC order all matches by distance; COUNT n is the n nearest, in order; COUNT n ANY is n of the matches", async () => {
    const c = await withPoints();
    const qs = [...queries(303, 10, "radius"), ...queries(304, 10, "box")];
    const commands: string[][] = [];
    for (const q of qs) {
      commands.push(["GEOSEARCH", "pts", ...searchArgs(q), "ASC"], ["GEOSEARCH", "pts", ...searchArgs(q), "DESC", "WITHDIST"],
        ["GEOSEARCH", "pts", ...searchArgs(q), "COUNT", "7", "WITHDIST"], ["GEOSEARCH", "pts", ...searchArgs(q), "COUNT", "5", "ANY"]);
    }
    const replies = await cmds(c, commands);
    qs.forEach((q, i) => {
      const sorted = nearestFirst(modelSearch(q));
      const [asc, desc, count, any] = replies.slice(4 * i, 4 * i + 4) as unknown[][];
      expect(asc).toEqual(sorted.map((m) => m.p.name));
      expect(desc).toEqual([...sorted].reverse().map((m) => [m.p.name, distString(m.dist)]));
      expect(count).toEqual(sorted.slice(0, 7).map((m) => [m.p.name, distString(m.dist)]));
      expect(any.length).toBe(Math.min(5, sorted.length));
      const names = new Set(sorted.map((m) => m.p.name));
      for (const name of any) expect(names.has(name as string)).toBe(true);
    });
    c.close();
  });

  test("WITHCOORD and WITHHASH give each match's cell centre and score", async () => {
    const c = await withPoints();
    const qs = queries(405, 8, "radius");
    const replies = await cmds(c, qs.map((q) => ["GEOSEARCH", "pts", ...searchArgs(q), "ASC", "WITHHASH", "WITHCOORD"]));
    qs.forEach((q, i) => {
      expect(replies[i]).toEqual(nearestFirst(modelSearch(q)).map((m) => [m.p.name, m.p.score, [coordString(m.p.lon), coordString(m.p.lat)]]));
    });
    c.close();
  });

  test("a user with only +@read commands can search", async () => {
    const c = await fresh();
    await c.raw("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania");
    await asAclUser(c, ["+@read", "~*"], async (u) => {
      expect(await u.raw("GEOSEARCH", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC")).toBe(bulks("Catania", "Palermo"));
      expect(await u.raw("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")).toBe(
        "-NOPERM this user has no permissions to run the 'geosearchstore' command\r\n");
    });
    c.close();
  });
});

describe("GEOSEARCHSTORE", () => {
  test("stores the matches with their scores, or with their distances (STOREDIST), as the model finds them", async () => {
    const c = await withPoints();
    const rnd = seededRandom(55);
    for (const q of [...queries(505, 4, "radius"), ...queries(506, 4, "box")]) {
      // Wide enough to hold hundreds of points.
      if (q.radius) q.radius = String(Number(q.radius) * 4);
      const want = modelSearch(q);
      expect(await c.raw("GEOSEARCHSTORE", "dst", "pts", ...searchArgs(q))).toBe(int(want.length));
      const byScore = [...want].sort((a, b) => a.p.score - b.p.score);
      expect(await c.cmd("ZRANGE", "dst", 0, -1, "WITHSCORES")).toEqual(byScore.flatMap((m) => [m.p.name, String(m.p.score)]));
      expect(await c.raw("GEOSEARCHSTORE", "dist", "pts", ...searchArgs(q), "STOREDIST")).toBe(int(want.length));
      const got = (await c.cmd("ZRANGE", "dist", 0, -1, "WITHSCORES")) as string[];
      const sorted = nearestFirst(want);
      expect(got.filter((_, i) => i % 2 === 0)).toEqual(sorted.map((m) => m.p.name));
      got.filter((_, i) => i % 2 === 1).forEach((d, i) => expect(Math.abs(Number(d) - sorted[i].dist)).toBeLessThanOrEqual(1e-9 * sorted[i].dist));
      // COUNT keeps the nearest.
      const n = 1 + Math.floor(rnd() * 20);
      expect(await c.raw("GEOSEARCHSTORE", "dst", "pts", ...searchArgs(q), "COUNT", n)).toBe(int(Math.min(n, want.length)));
      expect(((await c.cmd("ZRANGE", "dst", 0, -1)) as string[]).sort()).toEqual(sorted.slice(0, n).map((m) => m.p.name).sort());
    }
    c.close();
  });

  test("a stored set is a listpack up to 128 members and a skiplist from 129", async () => {
    const c = await withPoints();
    const q = queries(606, 1, "radius")[0];
    q.radius = "100000";
    q.unit = "km";
    for (const [count, encoding] of [[128, "listpack"], [129, "skiplist"]] as const) {
      expect(await c.raw("GEOSEARCHSTORE", "dst", "pts", ...searchArgs(q), "COUNT", count)).toBe(int(count));
      expect(await c.raw("OBJECT", "ENCODING", "dst")).toBe(bulk(encoding));
    }
    c.close();
  });

  test("serves a client blocked in BZPOPMIN or BZPOPMAX on the destination; an empty result leaves it blocked", async () => {
    const c = await fresh();
    await c.raw("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania");
    const w = await another();
    await block(c, w, "BZPOPMIN", "dst", 0);
    expect(await c.raw("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")).toBe(int(0));
    expect(await c.raw("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")).toBe(int(2));
    expect(await w.readRaw()).toBe(bulks("dst", "Palermo", "3479099956230698"));
    expect(await c.raw("ZRANGE", "dst", 0, -1)).toBe(bulks("Catania"));
    await c.raw("DEL", "dst");
    await block(c, w, "BZPOPMAX", "dst", 0);
    expect(await c.raw("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST")).toBe(int(2));
    expect(await w.readRaw()).toBe(bulks("dst", "Palermo", "190.44242984775784"));
    // In a transaction, the waiter is served after EXEC, from what the whole transaction left.
    await c.raw("DEL", "dst");
    await block(c, w, "BZPOPMIN", "dst", 0);
    await c.raw("MULTI");
    await c.raw("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km");
    await c.raw("ZADD", "dst", "-1", "first");
    expect(await c.raw("EXEC")).toBe(arr(int(2), int(1)));
    expect(await w.readRaw()).toBe(bulks("dst", "first", "-1"));
    c.close();
  });

  test("notifies geosearchstore on the destination, or del when an empty result deletes it", async () => {
    const c = await fresh();
    await c.raw("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania");
    const got = await keyspaceEvents(c, async () => {
      expect(await c.raw("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km")).toBe(int(2));
      expect(await c.raw("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "STOREDIST")).toBe(int(2));
      expect(await c.raw("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")).toBe(int(0));
      expect(await c.raw("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")).toBe(int(0));
      expect(await c.raw("GEOSEARCHSTORE", "dst", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km")).toBe(int(0));
    });
    expect(got).toEqual([...keyspaceEvent("geosearchstore", "dst"), ...keyspaceEvent("geosearchstore", "dst"), ...keyspaceEvent("del", "dst")]);
    c.close();
  });

  test("touches a WATCHed destination when it writes or deletes it, not when there was nothing to delete", async () => {
    const c = await fresh();
    const other = await another();
    await c.raw("GEOADD", "g", "1", "2", "m");
    const cases: [string, string, string][] = [["1", "2", "*-1\r\n"], ["50", "2", "*-1\r\n"], ["50", "2", arr("+PONG\r\n")]];
    for (const [lon, lat, reply] of cases) {
      expect(await c.raw("WATCH", "d")).toBe("+OK\r\n");
      await other.raw("GEOSEARCHSTORE", "d", "g", "FROMLONLAT", lon, lat, "BYRADIUS", "10", "km");
      await c.raw("MULTI");
      await c.raw("PING");
      expect(await c.raw("EXEC")).toBe(reply);
    }
    c.close();
  });

  test("needs write access to the destination's key: read access to the source is not enough", async () => {
    const c = await fresh();
    await c.raw("GEOADD", "src", "1", "2", "m", "1.1", "2.1", "n");
    const store = ["GEOSEARCHSTORE", "dst", "src", "FROMLONLAT", "1", "2", "BYRADIUS", "100", "km"];
    await asAclUser(c, ["+@all", "%R~src*"], async (u) => {
      expect(await u.raw("GEOSEARCH", "src", "FROMLONLAT", "1", "2", "BYRADIUS", "100", "km")).toBe(bulks("m", "n"));
      expect(await u.raw(...store)).toBe(NOPERM_KEYS);
      expect(await u.raw("GEOSEARCHSTORE", "src2", "src", "FROMLONLAT", "1", "2", "BYRADIUS", "100", "km")).toBe(NOPERM_KEYS);
    });
    expect(await c.raw("EXISTS", "dst", "src2")).toBe(int(0));
    await asAclUser(c, ["+@all", "%R~src*", "%W~dst*"], async (u) => {
      expect(await u.raw(...store)).toBe(int(2));
    });
    expect(await c.raw("ZRANGE", "dst", 0, -1)).toBe(bulks("m", "n"));
    c.close();
  });
});

describe("GEORADIUS", () => {
  test("around 20 centres: the same points as the model, with their distances; STORE and STOREDIST store them", async () => {
    const c = await withPoints();
    const qs = queries(707, 20, "radius").filter((q) => q.lonlat);
    const replies = await cmds(c, qs.map((q) => ["GEORADIUS", "pts", ...q.lonlat!, q.radius!, q.unit, "WITHDIST"]));
    qs.forEach((q, i) => expect(replyPairs(replies[i])).toEqual(modelPairs(modelSearch(q))));
    const q = qs[0], want = modelSearch(q);
    expect(await c.raw("GEORADIUS", "pts", ...q.lonlat!, q.radius!, q.unit, "STORE", "dst")).toBe(int(want.length));
    expect(((await c.cmd("ZRANGE", "dst", 0, -1)) as string[]).sort()).toEqual(want.map((m) => m.p.name).sort());
    expect(await c.raw("GEORADIUS", "pts", ...q.lonlat!, q.radius!, q.unit, "COUNT", 3, "STOREDIST", "dst")).toBe(int(Math.min(3, want.length)));
    expect(await c.cmd("ZRANGE", "dst", 0, -1)).toEqual(nearestFirst(want).slice(0, 3).map((m) => m.p.name));
    c.close();
  });

  test("STORE and STOREDIST serve a client blocked on the destination, and notify georadiusstore", async () => {
    const c = await fresh();
    await c.raw("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania");
    const w = await another();
    const got = await keyspaceEvents(c, async () => {
      await block(c, w, "BZPOPMIN", "other", "dst", 0);
      expect(await c.raw("GEORADIUS", "g", "15", "37", "200", "km", "STOREDIST", "dst")).toBe(int(2));
      expect(await w.readRaw()).toBe(bulks("dst", "Catania", "56.441257870158204"));
      expect(await c.raw("GEORADIUS", "g", "15", "37", "200", "km", "STORE", "dst")).toBe(int(2));
      expect(await c.raw("GEORADIUS", "g", "0", "0", "1", "km", "STORE", "dst")).toBe(int(0));
      expect(await c.raw("GEORADIUS", "nokey", "0", "0", "1", "km", "STORE", "dst")).toBe(int(0));
    });
    expect(got).toEqual([...keyspaceEvent("georadiusstore", "dst"), ...keyspaceEvent("zpopmin", "dst"), ...keyspaceEvent("georadiusstore", "dst"), ...keyspaceEvent("del", "dst")]);
    c.close();
  });

  test("without STORE a read-only key permission is enough; STORE needs write access to its key", async () => {
    const c = await fresh();
    await c.raw("GEOADD", "src", "1", "2", "m", "1.1", "2.1", "n");
    await asAclUser(c, ["+@all", "%R~src*"], async (u) => {
      expect(await u.raw("GEORADIUS", "src", "1", "2", "100", "km")).toBe(bulks("m", "n"));
      expect(await u.raw("GEORADIUS", "src", "1", "2", "100", "km", "STORE", "dst")).toBe(NOPERM_KEYS);
      expect(await u.raw("GEORADIUS", "src", "1", "2", "100", "km", "STOREDIST", "dst")).toBe(NOPERM_KEYS);
    });
    await asAclUser(c, ["+@all", "%R~src*", "%W~dst*"], async (u) => {
      expect(await u.raw("GEORADIUS", "src", "1", "2", "100", "km", "STORE", "dst")).toBe(int(2));
    });
    expect(await c.raw("ZCARD", "dst")).toBe(int(2));
    c.close();
  });
});

describe("GEORADIUS_RO", () => {
  test("answers as GEORADIUS, and is what a user with only +@read commands may run", async () => {
    const c = await withPoints();
    const qs = queries(808, 12, "radius").filter((q) => q.lonlat);
    const replies = await cmds(c, qs.map((q) => ["GEORADIUS_RO", "pts", ...q.lonlat!, q.radius!, q.unit, "WITHDIST"]));
    qs.forEach((q, i) => expect(replyPairs(replies[i])).toEqual(modelPairs(modelSearch(q))));
    const q = qs[0], want = nearestFirst(modelSearch(q)).slice(0, 5).map((m) => m.p.name);
    await asAclUser(c, ["+@read", "+select", "~*"], async (u) => {
      expect(await u.raw("SELECT", POINTS_DB)).toBe("+OK\r\n");
      expect(await u.cmd("GEORADIUS_RO", "pts", ...q.lonlat!, q.radius!, q.unit, "COUNT", 5)).toEqual(want);
      expect(await u.raw("GEORADIUS", "pts", ...q.lonlat!, q.radius!, q.unit, "COUNT", 5)).toBe(
        "-NOPERM this user has no permissions to run the 'georadius' command\r\n");
    });
    c.close();
  });
});

describe("GEORADIUSBYMEMBER", () => {
  test("around 20 members: the same points as the model, with their distances; STORE stores them", async () => {
    const c = await withPoints();
    const qs = queries(909, 40, "radius").filter((q) => q.member);
    const replies = await cmds(c, qs.map((q) => ["GEORADIUSBYMEMBER", "pts", q.member!, q.radius!, q.unit, "WITHDIST"]));
    qs.forEach((q, i) => expect(replyPairs(replies[i])).toEqual(modelPairs(modelSearch(q))));
    const q = qs[1], want = modelSearch(q);
    expect(await c.raw("GEORADIUSBYMEMBER", "pts", q.member!, q.radius!, q.unit, "STORE", "dst")).toBe(int(want.length));
    expect(((await c.cmd("ZRANGE", "dst", 0, -1)) as string[]).sort()).toEqual(want.map((m) => m.p.name).sort());
    c.close();
  });

  test("STORE serves a client blocked in BZMPOP on the destination, and notifies georadiusstore", async () => {
    const c = await fresh();
    await c.raw("GEOADD", "g", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania");
    const w = await another();
    const got = await keyspaceEvents(c, async () => {
      await block(c, w, "BZMPOP", 0, 1, "dst", "MIN", "COUNT", 5);
      expect(await c.raw("GEORADIUSBYMEMBER", "g", "Palermo", "300", "km", "STORE", "dst")).toBe(int(2));
      expect(await w.readRaw()).toBe(arr(bulk("dst"), arr(bulks("Palermo", "3479099956230698"), bulks("Catania", "3479447370796909"))));
    });
    expect(got).toEqual([...keyspaceEvent("georadiusstore", "dst"), ...keyspaceEvent("zpopmin", "dst"), ...keyspaceEvent("del", "dst")]);
    c.close();
  });

  test("STORE needs write access to its key", async () => {
    const c = await fresh();
    await c.raw("GEOADD", "src", "1", "2", "m", "1.1", "2.1", "n");
    await asAclUser(c, ["+@all", "%R~src*"], async (u) => {
      expect(await u.raw("GEORADIUSBYMEMBER", "src", "m", "100", "km")).toBe(bulks("m", "n"));
      expect(await u.raw("GEORADIUSBYMEMBER", "src", "m", "100", "km", "STORE", "dst")).toBe(NOPERM_KEYS);
    });
    expect(await c.raw("EXISTS", "dst")).toBe(int(0));
    c.close();
  });
});

describe("GEORADIUSBYMEMBER_RO", () => {
  test("answers as GEORADIUSBYMEMBER, and is what a user with only +@read commands may run", async () => {
    const c = await withPoints();
    const qs = queries(1010, 24, "radius").filter((q) => q.member);
    const replies = await cmds(c, qs.map((q) => ["GEORADIUSBYMEMBER_RO", "pts", q.member!, q.radius!, q.unit, "WITHDIST"]));
    qs.forEach((q, i) => expect(replyPairs(replies[i])).toEqual(modelPairs(modelSearch(q))));
    const q = qs[0], want = nearestFirst(modelSearch(q)).slice(0, 5).map((m) => m.p.name);
    await asAclUser(c, ["+@read", "+select", "~*"], async (u) => {
      expect(await u.raw("SELECT", POINTS_DB)).toBe("+OK\r\n");
      expect(await u.cmd("GEORADIUSBYMEMBER_RO", "pts", q.member!, q.radius!, q.unit, "COUNT", 5)).toEqual(want);
      expect(await u.raw("GEORADIUSBYMEMBER", "pts", q.member!, q.radius!, q.unit)).toBe(
        "-NOPERM this user has no permissions to run the 'georadiusbymember' command\r\n");
    });
    c.close();
  });
});

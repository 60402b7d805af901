// The layout of main.ts as a book: its header's map names every part and chapter banner, in file
// order, and chapters are cited by name (never by a number, which would drift) in main.ts and in
// the first line of every other test file.
import { describe, test, expect } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";

const MAIN = readFileSync(join(import.meta.dir, "..", "main.ts"), "utf8");
const RULE = /^\/\/ (=|#){40,}$/;

/** The banners' titles in file order: a rule line, then "// <title>" on the next line. */
function bannerTitles(): string[] {
  const lines = MAIN.split("\n");
  const titles: string[] = [];
  for (let i = 0; i + 1 < lines.length; i++) {
    if (RULE.test(lines[i]) && /^\/\/ \S/.test(lines[i + 1]) && !RULE.test(lines[i + 1])) titles.push(lines[i + 1].slice(3));
  }
  return titles;
}

/** The map in the header comment: parts ("*   Part ...") and chapters ("*     Title — what"). */
function mapTitles(): string[] {
  const header = MAIN.slice(0, MAIN.indexOf("*/"));
  const map = header.slice(header.indexOf("this map names them all"), header.indexOf("Where a change goes"));
  const titles: string[] = [];
  for (const line of map.split("\n")) {
    const part = /^ \* {3}(Part [IVX]+\. .+)$/.exec(line);
    const chapter = /^ \* {5}(.+?) — /.exec(line);
    if (part) titles.push(part[1]);
    else if (chapter) titles.push(chapter[1]);
  }
  return titles;
}

const CHAPTERS = new Set(bannerTitles().filter((t) => !t.startsWith("Part ")));

/** Splits "A, B and C" into chapter titles, longest title first, so titles that hold a comma or
 *  "and" themselves are read whole. Returns null if some part is not a chapter's title. */
function citedChapters(list: string): string[] | null {
  const titles = [...CHAPTERS].sort((a, b) => b.length - a.length);
  const out: string[] = [];
  let rest = list;
  while (rest.length) {
    const t = titles.find((x) => rest.startsWith(x));
    if (!t) return null;
    out.push(t);
    rest = rest.slice(t.length).replace(/^(, | and |, and )/, "");
  }
  return out;
}

describe("the map of main.ts", () => {
  test("names every part and chapter banner, in the order they come", () => {
    const banners = bannerTitles();
    expect(banners.length).toBeGreaterThan(20);
    expect(mapTitles()).toEqual(banners);
  });

  test("puts the three parts in order and main last", () => {
    const banners = bannerTitles();
    expect(banners.filter((t) => t.startsWith("Part "))).toEqual(["Part I. The request path", "Part II. Chapters", "Part III. Containers and algorithms"]);
    expect(banners[banners.length - 1]).toBe("main");
  });
});

describe("citations of chapters", () => {
  test("main.ts never cites a part of itself by number", () => {
    expect(MAIN.match(/\bsections? \d+/gi) ?? []).toEqual([]);
  });

  test('main.ts\'s "<Title> chapter" citations name existing chapters', () => {
    const cited = [...MAIN.matchAll(/\b(?:the|see) ([A-Z][A-Za-z/]*(?: [a-z]+)?) chapter\b/g)].map((m) => m[1]);
    expect(cited.length).toBeGreaterThan(0);
    expect(cited.filter((t) => !CHAPTERS.has(t))).toEqual([]);
  });

  test("every test file opens with the chapters it covers: // main.ts, <chapters>: ...", () => {
    const bad: string[] = [];
    for (const f of readdirSync(import.meta.dir).filter((f) => f.endsWith(".test.ts") && f !== "layout.test.ts")) {
      const first = readFileSync(join(import.meta.dir, f), "utf8").split("\n")[0];
      const m = /^\/\/ main\.ts, (.+?): /.exec(first);
      if (!m || !citedChapters(m[1])) bad.push(`${f}: ${first}`);
    }
    expect(bad).toEqual([]);
  });

  test("no test file cites main.ts by section number", () => {
    const bad: string[] = [];
    for (const f of readdirSync(import.meta.dir).filter((f) => f.endsWith(".ts"))) {
      const text = readFileSync(join(import.meta.dir, f), "utf8");
      for (const m of text.matchAll(/\bsections? \d+/gi)) bad.push(`${f}: ${m[0]}`);
    }
    expect(bad).toEqual([]);
  });
});

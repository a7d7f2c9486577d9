// Shared by the front-end tests: paths and JSON fixtures.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, "..", "..");
export const FRONTEND = join(ROOT, "explorer", "frontend");

export function fixture(name) {
  return JSON.parse(readFileSync(join(HERE, "fixtures", name), "utf8"));
}

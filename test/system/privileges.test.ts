/**
 * Giving root up cannot be undone, so each case runs in a child process started
 * as root. A step out of order is refused by the kernel (setgid or setgroups
 * after setuid fails with EPERM), so a child that ends as the user and group
 * asked for, with no supplementary groups, has taken the steps in order.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { reported, runScript, SRC } from "../support/script.ts";

const NOBODY = 65534;
const EXTRA_GROUP = 4242;

const script = `
  import { dropPrivileges } from ${JSON.stringify(`${SRC}/system/privileges.ts`)};
  const [stateFile, uid, gid] = process.argv.slice(2);
  const id = (text) => (text === "null" ? null : Number(text));
  // Supplementary groups to give up, as a root login has.
  process.setgroups([${EXTRA_GROUP}]);
  const groupsBefore = process.getgroups();
  let error = null;
  try {
    await dropPrivileges({ stateFile, uid: id(uid), gid: id(gid) });
  } catch (caught) {
    error = caught.code ?? String(caught);
  }
  console.log(JSON.stringify({
    error,
    uid: process.getuid(),
    gid: process.getgid(),
    groupsBefore,
    groups: process.getgroups(),
  }));
`;

interface Report {
  error: string | null;
  uid: number;
  gid: number;
  groupsBefore: number[];
  groups: number[];
}

let folder: string;
let stateFile: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "mantrid-privileges-"));
  stateFile = join(folder, "state.json");
});
afterEach(() => rm(folder, { recursive: true, force: true }));

async function drop(uid: number | null, gid: number | null, file = stateFile) {
  const run = await runScript(script, { args: [file, String(uid), String(gid)] });
  return { report: reported<Report>(run), log: run.stderr };
}

async function owner(path: string): Promise<[number, number]> {
  const info = await stat(path);
  return [info.uid, info.gid];
}

describe.skipIf(process.getuid?.() !== 0)("dropPrivileges, started as root", () => {
  test("becomes the user and group asked for, with no supplementary groups left", async () => {
    await writeFile(stateFile, "{}");
    await writeFile(`${stateFile}.lock`, "");
    const { report, log } = await drop(NOBODY, NOBODY);
    expect(report.error).toBeNull();
    expect(report.groupsBefore).toEqual([EXTRA_GROUP]);
    expect(report).toMatchObject({ uid: NOBODY, gid: NOBODY, groups: [] });
    expect(log).toContain(`running as uid ${NOBODY} gid ${NOBODY}`);
  });

  test("hands the state folder and file to the new user, so saves still work", async () => {
    await writeFile(stateFile, "{}");
    await writeFile(`${stateFile}.lock`, "");
    await drop(NOBODY, NOBODY);
    expect(await owner(folder)).toEqual([NOBODY, NOBODY]);
    expect(await owner(stateFile)).toEqual([NOBODY, NOBODY]);
    expect(await owner(`${stateFile}.lock`)).toEqual([NOBODY, NOBODY]);
  });

  test("a state file not written yet is no obstacle", async () => {
    const { report } = await drop(NOBODY, NOBODY);
    expect(report).toMatchObject({ error: null, uid: NOBODY, gid: NOBODY });
    expect(await owner(folder)).toEqual([NOBODY, NOBODY]);
  });

  test("a group alone changes the group and keeps the user", async () => {
    const { report } = await drop(null, NOBODY);
    expect(report).toMatchObject({ error: null, uid: 0, gid: NOBODY, groups: [] });
    expect(await owner(folder)).toEqual([0, NOBODY]);
  });

  test("a user alone changes the user and keeps the group", async () => {
    const { report } = await drop(NOBODY, null);
    expect(report).toMatchObject({ error: null, uid: NOBODY, gid: 0, groups: [] });
    expect(await owner(folder)).toEqual([NOBODY, 0]);
  });

  test("neither: nothing changes, not even the folder's owner", async () => {
    const { report, log } = await drop(null, null);
    expect(report.error).toBeNull();
    expect(report.uid).toBe(0);
    expect(report.gid).toBe(0);
    expect(report.groups).toEqual([EXTRA_GROUP]);
    expect(await owner(folder)).toEqual([0, 0]);
    expect(log).not.toContain("running as");
  });

  test("a state folder that cannot be handed over stops it while still root", async () => {
    const { report } = await drop(NOBODY, NOBODY, join(folder, "missing", "state.json"));
    expect(report.error).toContain("ENOENT");
    expect(report).toMatchObject({ uid: 0, gid: 0, groups: [EXTRA_GROUP] });
  });
});

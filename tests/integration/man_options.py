#!/usr/bin/python3
"""Man pages agree with the commands: for every command of vouch and vouch-device (walked
through --help), each long flag its --help lists is described in its section of the man page
source (man/vouch.1.scd, man/vouch-device.8.scd), and the section describes no flag the
command does not have.

A section starts at a heading "## <prog> <command path>"; a flag is described by a term line
that starts with "*--flag*" (or "*-h*, *--help*"). Term lines before the first such heading (the OPTIONS section)
are the program's own flags. --help (every command has it) is described once, there.
"""
import os
import re
import subprocess
import sys


def help_text(prog, path):
    r = subprocess.run([prog] + path + ["--help"], capture_output=True, text=True, check=True)
    return r.stdout


def sections_of(text, name):
    """{'Subcommands': [...], 'Options': [...]} of a CLI11 --help text."""
    found = {"Subcommands": [], "Options": []}
    section = None
    for line in text.splitlines():
        if not line.strip():
            section = None
            continue
        header = line.rstrip(":")
        if line.endswith(":") and header in found:
            section = header
            continue
        if section == "Subcommands":
            m = re.match(r"^  ([a-z][a-z0-9-]*)", line)
            if m:
                found[section].append(m.group(1))
        elif section == "Options":
            m = re.match(r"^  (?:-[a-zA-Z],)?(--[a-z0-9-]+)", line)
            if m:
                found[section].append(m.group(1))
    return found


def commands(prog):
    """{command path (space-separated, '' for the program): set of long flags}."""
    out = {}
    todo = [[]]
    while todo:
        path = todo.pop()
        s = sections_of(help_text(prog, path), prog)
        out[" ".join(path)] = set(s["Options"])
        todo.extend(path + [sub] for sub in s["Subcommands"])
    return out


def man_flags(source, name):
    """{command path: set of flags described} from a man page source."""
    out = {"": set()}
    path = ""
    for line in open(source, encoding="utf-8"):
        m = re.match(r"^## " + re.escape(name) + r"(?: (.*))?$", line.rstrip("\n"))
        if m:
            path = (m.group(1) or "").strip()
            out.setdefault(path, set())
            continue
        if line.startswith("# "):
            path = ""
            continue
        for flag in re.findall(r"^(?:\*-[a-zA-Z]\*, )?\*(--[a-z0-9-]+)\*", line):
            out.setdefault(path, set()).add(flag)
    return out


def check(prog, name, source):
    errors = []
    have = commands(prog)
    described = man_flags(source, name)
    for path, flags in sorted(have.items()):
        leaf = not any(p.startswith(path + " ") or (path == "" and p) for p in have if p != path)
        want = flags - {"--help"}
        if path == "":
            want |= {"--help"} & flags
        if path not in described:
            if leaf or want:
                errors.append(f"{source}: no section '## {name} {path}'")
            continue
        for flag in sorted(want - described[path]):
            errors.append(f"{source}: '{name} {path}' has {flag} (its --help lists it); the man page does not describe it")
        for flag in sorted(described[path] - want - ({"--help"} if path else set())):
            errors.append(f"{source}: describes {flag} under '{name} {path}', which has no such flag")
    for path in sorted(set(described) - set(have)):
        errors.append(f"{source}: section '## {name} {path}' names no command of {name}")
    return errors, len(have)


def main():
    root = os.environ["VOUCH_SOURCE_ROOT"]
    errors = []
    for env, name, page in (("VOUCH", "vouch", "vouch.1.scd"), ("VOUCH_DEVICE", "vouch-device", "vouch-device.8.scd")):
        e, n = check(os.environ[env], name, os.path.join(root, "man", page))
        errors += e
        print(f"{name}: {n} commands checked against man/{page}")
    for e in errors:
        print("FAIL: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""dom_check.py - checks a DOM that headless Chromium dumped (--dump-dom) after the
page's scripts ran.

  dom_check.py inert FILE [SCRIPT_SRC]
      No payload ran or became markup: <html> has no data-pwned attribute (every
      payload of xss_records.py sets it), the page's own script ran (<html class="js">),
      no element has an on* attribute, no href/src/action is a javascript: URL, and the
      only <script> elements are the page's own (src SCRIPT_SRC, or inline in a report).
  dom_check.py count FILE SELECTOR
      Prints how many elements match SELECTOR: "tag", "tag.class", "#id" or
      "tag[attr]" (class tokens matched exactly)."""
import sys
from html.parser import HTMLParser


class Dom(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elems = []  # (tag, attrs dict)

    def handle_starttag(self, tag, attrs):
        self.elems.append((tag, {k: (v or "") for k, v in attrs}))

    handle_startendtag = handle_starttag


def load(path):
    d = Dom()
    with open(path, encoding="utf-8", errors="replace") as f:
        d.feed(f.read())
    return d.elems


def inert(elems, script_src):
    problems = []
    html = [a for t, a in elems if t == "html"]
    if not html or "data-pwned" in html[0]:
        problems.append("<html> has data-pwned=%r: a payload ran" % (html[0].get("data-pwned") if html else None))
    if not html or "js" not in html[0].get("class", "").split():
        problems.append("the page's own script did not run (no class js on <html>)")
    for t, a in elems:
        for k, v in a.items():
            if k.startswith("on"):
                problems.append("<%s %s=...> is markup from a payload" % (t, k))
            if k in ("href", "src", "action", "xlink:href", "formaction") and \
                    v.strip().lower().startswith("javascript:"):
                problems.append("<%s %s=%r>" % (t, k, v[:60]))
        if t == "script" and a.get("src", "") != script_src:
            problems.append("unexpected <script %r>" % a)
        if t in ("img", "iframe", "object", "embed"):
            problems.append("unexpected <%s> element" % t)
    return problems


def count(elems, sel):
    n = 0
    for t, a in elems:
        if sel.startswith("#"):
            n += a.get("id") == sel[1:]
        elif "[" in sel:
            tag, attr = sel[:-1].split("[")
            n += t == tag and attr in a
        elif "." in sel:
            tag, cls = sel.split(".", 1)
            n += (not tag or t == tag) and all(c in a.get("class", "").split() for c in cls.split("."))
        else:
            n += t == sel
    return n


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    elems = load(path)
    if mode == "inert":
        p = inert(elems, sys.argv[3] if len(sys.argv) > 3 else "")
        for x in p:
            print(x)
        sys.exit(1 if p else 0)
    print(count(elems, sys.argv[3]))

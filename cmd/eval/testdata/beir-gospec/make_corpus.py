#!/usr/bin/env python3
"""Builds corpus.jsonl from the Go language specification shipped with Go
($(go env GOROOT)/doc/go_spec.html, BSD-licensed): one passage per section
(h2/h3/h4 heading up to the next heading), HTML tags removed, whitespace
collapsed, code examples kept as text. _id is the heading's id attribute.

Usage: python3 make_corpus.py "$(go env GOROOT)/doc/go_spec.html" > corpus.jsonl
"""
import html, json, re, sys

src = open(sys.argv[1], encoding="utf-8").read()
heads = list(re.finditer(r'<h([234]) id="([^"]+)">(.*?)</h\1>', src, re.S))
seen = set()
for i, m in enumerate(heads):
    end = heads[i + 1].start() if i + 1 < len(heads) else len(src)
    body = src[m.end():end]
    body = re.sub(r"<[^>]+>", " ", body)
    body = html.unescape(body)
    body = re.sub(r"\s+", " ", body).strip()
    title = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", m.group(3)))).strip()
    if len(body) < 80 or m.group(2) in seen:
        continue
    seen.add(m.group(2))
    print(json.dumps({"_id": m.group(2), "title": title, "text": body}, ensure_ascii=False))

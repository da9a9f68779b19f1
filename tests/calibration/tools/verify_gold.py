"""Checks tests/calibration/gold.jsonl against the documents in tests/calibration/docs.

For every quote: exact substring of the document's visible text after whitespace collapsing, 60-300 characters,
and contained in a single block (paragraph, list item, table cell). Also checks ids against structure.json,
passage counts, at least one null passage per AI-relevant document, and that passage ids lie in must ∪ may.
Exit code 1 on any failure."""
import html, json, pathlib, re, sys

HERE = pathlib.Path(__file__).resolve().parent.parent
# The shared data folder sits beside the repository (../shared).
STRUCTURE = HERE.parent.parent.parent / "shared" / "iso42001" / "structure.json"
DOC_TYPES = {"policy", "procedure", "model-card", "data-card", "risk-assessment", "impact-assessment",
             "audit-report", "incident-report", "inventory", "reference", "unrelated"}

def ws(s):
    return re.sub(r"\s+", " ", s).strip()

def blocks(path):
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".html", ".htm"):
        text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
        parts = re.split(r"(?i)</?(?:p|li|td|th|tr|h[1-6]|div|header|footer|nav|main|table|ul|ol|body|title)\b[^>]*>", text)
        out = [html.unescape(re.sub(r"<[^>]+>", " ", p)) for p in parts]
    else:
        out = []
        for para in re.split(r"\n\s*\n", text):
            lines = para.split("\n")
            if all(l.strip().startswith("|") for l in lines if l.strip()):
                for l in lines:
                    out.extend(c for c in l.strip().strip("|").split("|"))
            else:
                cur = []
                for l in lines:  # list items and numbered items start new blocks
                    if re.match(r"\s*([-*]|\d+(\.\d+)*\.?)\s", l) and cur:
                        out.append(" ".join(cur)); cur = []
                    cur.append(l)
                out.append(" ".join(cur))
        if path.suffix == ".md":
            out = [re.sub(r"[*`#]", "", b) for b in out]
    return [ws(b) for b in out if ws(b)]

def main():
    ids = {e["id"] for e in json.loads(STRUCTURE.read_text())}
    errors, verified, n_pass, n_null = [], 0, 0, 0
    lines = (HERE / "gold.jsonl").read_text(encoding="utf-8").splitlines()
    for ln, line in enumerate(lines, 1):
        d = json.loads(line)
        f = d["file"]
        path = HERE / "docs" / f
        if not path.exists():
            errors.append(f"{f}: missing document"); continue
        if set(d) != {"file", "doc_type", "doc_type_alt", "ai_relevant", "must_controls", "may_controls", "passages", "notes"}:
            errors.append(f"{f}: unexpected fields {sorted(d)}")
        if d["doc_type"] not in DOC_TYPES or not set(d["doc_type_alt"]) <= DOC_TYPES:
            errors.append(f"{f}: bad doc_type")
        must, may = set(d["must_controls"]), set(d["may_controls"])
        for i in must | may:
            if i not in ids: errors.append(f"{f}: unknown id {i}")
        if must & may: errors.append(f"{f}: ids in both must and may: {sorted(must & may)}")
        ps = d["passages"]
        if d["ai_relevant"]:
            if not 5 <= len(ps) <= 8: errors.append(f"{f}: {len(ps)} passages")
            if not any(not p["controls"] for p in ps): errors.append(f"{f}: no null passage")
        else:
            if len(ps) != 3 or any(p["controls"] or p["also"] for p in ps) or must or may:
                errors.append(f"{f}: unrelated document must have 3 null passages and no controls")
        bl = blocks(path)
        full = ws(" ".join(bl))
        for p in ps:
            q = ws(p["quote"])
            n_pass += 1; n_null += not p["controls"]
            if not 60 <= len(p["quote"]) <= 300: errors.append(f"{f}: quote length {len(p['quote'])}: {q[:50]}")
            if len(p["controls"]) > 2: errors.append(f"{f}: more than 2 primary ids: {q[:50]}")
            if not p["controls"] and p["also"]: errors.append(f"{f}: null passage with also ids: {q[:50]}")
            for i in p["controls"] + p["also"]:
                if i not in ids: errors.append(f"{f}: unknown id {i}")
                elif d["ai_relevant"] and i not in must | may: errors.append(f"{f}: passage id {i} not in must/may")
            if set(p["controls"]) & set(p["also"]): errors.append(f"{f}: id both primary and also: {q[:50]}")
            if q not in full: errors.append(f"{f}: quote not found: {q[:70]}")
            elif not any(q in b for b in bl): errors.append(f"{f}: quote crosses a block boundary: {q[:70]}")
            else: verified += 1
    print(f"documents: {len(lines)}, passages: {n_pass}, null passages: {n_null}, quotes verified: {verified}/{n_pass}")
    for e in errors: print("ERROR", e)
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main())

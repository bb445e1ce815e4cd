"""Grading a whole class from a CSV: one row per student, one column per answer; scores as CSV or JSON, and a
summary (mean and distribution per answer, how many students made each known mistake).

Accepted layouts:
  examsolve's:  id,variant,<answer name>,<answer name>,...   (variant optional: a spec file, relative to the CSV)
  Moodle's "Responses" report: the student from "Email address" / "ID number" / "Username" / the names, and
  "Response 1", "Response 2", ... mapped to the answers in order; a Cloze response "part 1: -8; part 2: -4"
  is split into the answers' elements in the order `examsolve export` writes the fields.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass
from fractions import Fraction

MAX_STUDENTS = 5000
MAX_CELL = 2000          # characters of one answer cell; longer is graded 0 without being read
_ID_COLUMNS = ("id", "student", "email address", "id number", "username")
_RESPONSE = re.compile(r"^response\s*(\d+)$", re.I)
_PART = re.compile(r"part\s*(\d+)\s*:\s*", re.I)
UNSAFE_START = ("=", "+", "-", "@", "\t", "\r")   # a spreadsheet runs a cell that starts with these


@dataclass(frozen=True)
class Student:
    """One row: who, which spec file, and the answers as written."""

    id: str
    spec_file: str
    answers: dict
    line: int


@dataclass(frozen=True)
class ClassReport:
    """Every student's grading report, in the CSV's order."""

    file: str
    names: tuple[str, ...]
    rows: tuple[tuple[Student, object], ...]     # (student, grading.Report)


def _fail(msg: str, path: str, line: int = 1, col: int = 1):
    from examsolve.errors import Loc, SpecError

    return SpecError(msg, Loc(path, line, col))


def read_csv(path: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a UTF-8 CSV (BOM allowed), size-bounded."""
    from examsolve.grading import _read_text

    text = _read_text(path, "the class CSV")
    try:
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    except csv.Error as e:
        raise _fail(f"not a CSV file ({e}); save it as comma-separated UTF-8", path) from None
    if not rows:
        raise _fail("the CSV is empty; the first row is the header: id,variant,<answer names>", path)
    if len(rows) > MAX_STUDENTS + 1:
        raise _fail(f"more than {MAX_STUDENTS} students; split the class", path, MAX_STUDENTS + 2)
    return [h.strip() for h in rows[0]], rows[1:]


def students(path: str, spec_file: str, answer_names: list[str], sizes: dict) -> list[Student]:
    """The students of a class CSV in either layout; SpecError (file:line:col) for a bad header."""
    header, rows = read_csv(path)
    low = [h.lower() for h in header]
    moodle = any(_RESPONSE.match(h) for h in header)
    id_col = next((low.index(c) for c in _ID_COLUMNS if c in low), None)
    if id_col is None and not moodle:
        raise _fail("no id column; the header is id,variant,<answer names> (e.g. id,variant,u,dL/dw)", path)
    cols = _answer_columns(header, answer_names, moodle, path)
    var_col = low.index("variant") if "variant" in low else None
    out = []
    for n, row in enumerate(rows, 2):
        if not any(c.strip() for c in row):
            continue
        sid = _student_id(row, low, id_col, n)
        spec = spec_file
        if var_col is not None and var_col < len(row) and row[var_col].strip():
            spec = os.path.join(os.path.dirname(path), row[var_col].strip())
        answers = {}
        for i, names in cols:
            cell = row[i] if i < len(row) else ""
            answers.update(_split_cloze(cell, names, sizes) if len(names) > 1 else {names[0]: cell})
        out.append(Student(sid, spec, answers, n))
    return out


def _answer_columns(header: list[str], names: list[str], moodle: bool, path: str) -> list[tuple[int, list]]:
    """(column, answer names it holds): by name, or Moodle's Response N in order (one Cloze: all answers)."""
    if moodle:
        resp = sorted((int(m.group(1)), i) for i, h in enumerate(header) if (m := _RESPONSE.match(h)))
        if len(resp) == 1:
            return [(resp[0][1], list(names))]
        return [(i, [names[k - 1]]) for k, i in resp if 0 < k <= len(names)]
    cols = [(i, [h]) for i, h in enumerate(header) if h in names]
    unknown = [h for h in header if h and h.lower() not in _ID_COLUMNS + ("variant",) and h not in names]
    if unknown:
        col = header.index(unknown[0]) + 1
        raise _fail(f"column '{unknown[0]}' names no answer; answers are: {', '.join(names)}", path, 1, col)
    return cols


def _student_id(row, low, id_col, n: int) -> str:
    if id_col is not None and id_col < len(row) and row[id_col].strip():
        return row[id_col].strip()[:200]
    names = [row[low.index(c)].strip() for c in ("first name", "surname") if c in low and low.index(c) < len(row)]
    return " ".join(x for x in names if x) or f"row {n}"


def _split_cloze(cell: str, names: list[str], sizes: dict) -> dict:
    """Moodle's Cloze response 'part 1: -8; part 2: -4; ...' as answers (elements regrouped into lists)."""
    parts = {}
    for m in re.finditer(r"part\s*(\d+)\s*:\s*([^;]*)", cell, re.I):
        parts[int(m.group(1))] = m.group(2).strip()
    out, k = {}, 1
    for name in names:
        n = sizes.get(name, 1)
        vals = [parts.get(k + j, "") for j in range(n)]
        k += n
        if n == 1:
            out[name] = vals[0]
        elif any(vals):
            out[name] = "[" + ", ".join(v or "?" for v in vals) + "]"
    return out


def grade_class(spec_file: str, csv_path: str, override=None, follow_through: bool = False) -> ClassReport:
    """Grade every student of the CSV; each spec file is solved once, its wrong paths shared."""
    from examsolve import load_spec, solve
    from examsolve.grading import WrongPaths
    from examsolve.tensor import Tensor

    base = load_spec(spec_file)
    sol = solve(base)
    names = [a.name for a in sol.answers]
    sizes = {a.name: len(a.value.items) for a in sol.answers if isinstance(a.value, Tensor)}
    cache = {os.path.abspath(spec_file): (base, sol, WrongPaths(base))}
    rows = []
    for st in students(csv_path, spec_file, names, sizes):
        key = os.path.abspath(st.spec_file)
        if key not in cache:
            spec = load_spec(st.spec_file)
            cache[key] = (spec, solve(spec), WrongPaths(spec))
        rows.append((st, grade_student(*cache[key], st, override, follow_through)))
    return ClassReport(spec_file, tuple(names), tuple(rows))


def grade_student(spec, sol, wrong, st: Student, override, follow_through: bool = False):
    """One student's Report; a cell that cannot be read is 0 points with the reason, never a crash."""
    from examsolve import grading
    from examsolve.errors import ExamsolveError

    given, bad = {}, {}
    for name, text in st.answers.items():
        text = text.strip()
        if not text:
            continue
        if len(text) > MAX_CELL:
            bad[name] = (text[:40] + "…", f"the answer is longer than {MAX_CELL} characters")
            continue
        given[name] = (grading._read(text, f"{st.spec_file}, row {st.line}, {name}"), text)
    try:
        report = grading.grade(spec, sol, given, override, wrong, follow_through)
    except ExamsolveError as err:
        grading._reraise_run_budget(err)
        report = _one_by_one(spec, sol, wrong, given, override)      # one by one: nothing earlier to carry
    return _with_bad(report, bad)


def _one_by_one(spec, sol, wrong, given: dict, override):
    """Grade each answer alone, so one cell that breaks grading does not cost the others."""
    import dataclasses

    from examsolve import grading
    from examsolve.errors import ExamsolveError

    marks = {m.name: m for m in grading.grade(spec, sol, {}, override, wrong).marks}
    for name, pair in given.items():
        try:
            m = next(x for x in grading.grade(spec, sol, {name: pair}, override, wrong).marks if x.name == name)
        except (ExamsolveError, StopIteration) as err:
            grading._reraise_run_budget(err)
            m = dataclasses.replace(marks[name], given=pair[1], feedback=f"could not grade the answer: {err}")
        marks[name] = m
    return dataclasses.replace(grading.grade(spec, sol, {}, override, wrong), marks=tuple(marks.values()))


def _with_bad(report, bad: dict):
    """Cells refused before reading: 0 points and the reason."""
    import dataclasses

    if not bad:
        return report
    marks = tuple(dataclasses.replace(m, given=bad[m.name][0], feedback=bad[m.name][1], points=Fraction(0))
                  if m.name in bad else m for m in report.marks)
    return dataclasses.replace(report, marks=marks)


# ---- outputs ---------------------------------------------------------------------------------------------

def safe_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: one starting with = + - @ (a formula) gets a leading '."""
    s = str(value)
    return "'" + s if s.startswith(UNSAFE_START) else s


def _num(p: Fraction):
    return int(p) if p.denominator == 1 else round(float(p), 6)


def scores_csv(r: ClassReport) -> str:
    """id, variant, points per answer, total and maximum: one row per student (gradebook-ready)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([safe_cell(x) for x in ("id", "variant", *r.names, "total", "max")])
    for st, rep in r.rows:
        pts = {m.name: m.points for m in rep.marks}
        total = sum(m.points for m in rep.marks)
        most = sum(m.max_points for m in rep.marks)
        variant = os.path.basename(st.spec_file)
        w.writerow([safe_cell(st.id), safe_cell(variant)] + [_num(pts.get(n, Fraction(0))) for n in r.names]
                   + [_num(total), _num(most)])
    return buf.getvalue()


def summary(r: ClassReport) -> dict:
    """Per answer: mean points, distribution (points → students); known mistakes: feedback → students."""
    per: dict = {n: [] for n in r.names}
    mistakes: dict = {}
    for _, rep in r.rows:
        for m in rep.marks:
            if m.name in per:
                per[m.name].append(m.points)
            if m.given and not m.correct and m.feedback and not m.feedback.startswith(
                    ("could not", "the answer is", "give at least", "consistent with your")):
                mistakes[(m.name, m.feedback)] = mistakes.get((m.name, m.feedback), 0) + 1
    out = {"students": len(r.rows), "answers": {}, "mistakes": []}
    for n, pts in per.items():
        dist: dict = {}
        for p in pts:
            dist[str(_num(p))] = dist.get(str(_num(p)), 0) + 1
        out["answers"][n] = {"mean": round(float(sum(pts) / len(pts)), 4) if pts else 0,
                             "distribution": dict(sorted(dist.items(), key=lambda kv: float(kv[0])))}
    for (n, fb), count in sorted(mistakes.items(), key=lambda kv: -kv[1]):
        out["mistakes"].append({"answer": n, "feedback": fb, "students": count})
    return out


def report_json(r: ClassReport) -> str:
    """Every student's marks and the summary as JSON."""
    from examsolve.grading import report_json as one

    students = [{"id": st.id, "variant": st.spec_file, **json.loads(one(rep))} for st, rep in r.rows]
    return json.dumps({"file": r.file, "students": students, "summary": summary(r)}, indent=2,
                      ensure_ascii=False) + "\n"


def summary_text(r: ClassReport, width: int = 100) -> str:
    """The summary as rich tables (plain text): answers, then known mistakes with their counts."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    s = summary(r)
    buf = io.StringIO()
    con = Console(file=buf, width=width, no_color=True, color_system=None, highlight=False)
    t = Table(title=f"{s['students']} students")
    for col in ("answer", "mean", "distribution (points: students)"):
        t.add_column(col)
    for n, a in s["answers"].items():
        t.add_row(Text(n), str(a["mean"]), Text(", ".join(f"{k}: {v}" for k, v in a["distribution"].items())))
    con.print(t)
    if s["mistakes"]:
        m = Table(title="known mistakes")
        for col in ("answer", "students", "feedback"):
            m.add_column(col)
        for x in s["mistakes"]:
            m.add_row(Text(x["answer"]), str(x["students"]), Text(x["feedback"]))
        con.print(m)
    return buf.getvalue()

"""grade --class: a small class graded by hand, hostile cells, Moodle's Responses layout, safe CSV output."""
from __future__ import annotations

import csv
import io
import json
import os

from click.testing import CliRunner

from examsolve.cli import main
from examsolve.export import classgrade
from examsolve.grading import grade_file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIN_NET = os.path.join(ROOT, "problems", "sin_net.yaml")

# sin_net: u = 2π, y = 0, L = 4, dL/dw = (−8, −4), w after 1 step = (4 + π/2, 2 + π); points u 1, y 1, L 1, dL/dw 2,
# w after 1 step 1 (6 in all)
CLASS = """id,variant,u,y,L,dL/dw,w after 1 step
alice,,6.28,0,4,"[-8,-4]","[5.571, 5.142]"
bob,,6.3,0,2,"[-4,-2]",
carol,,"=cmd|' /C calc'!A0",10**10**10,,"[-8,-4]",ü
"=HYPERLINK(""http://x"")",,2*pi,,,,
"""
# by hand:
#   alice: everything right (6.28 is 2π to 3 s.f., 5.571 and 5.142 right to their 3 decimals)   -> 6
#   bob:   6.3 has 2 s.f. (0); y right (1); L = 2 is the ½ mistake (0); dL/dw halved (0); w empty -> 1
#   carol: u a formula (0), y 10**10**10 (0), L empty, dL/dw right (2), w 'ü' (0)                  -> 2
#   the 4th student (id a formula): u = 2*pi exact (1)                                           -> 1
EXPECTED = {"alice": 6, "bob": 1, "carol": 2, '=HYPERLINK("http://x")': 1}


def _write(tmp_path, text: str, name: str = "class.csv") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def test_class_totals_by_hand(tmp_path):
    r = classgrade.grade_class(SIN_NET, _write(tmp_path, CLASS))
    totals = {st.id: sum(m.points for m in rep.marks) for st, rep in r.rows}
    assert totals == EXPECTED


def test_class_equals_single_grade_calls(tmp_path):
    r = classgrade.grade_class(SIN_NET, _write(tmp_path, CLASS))
    for st, rep in r.rows:
        pairs = [f"{n}={v}" for n, v in st.answers.items() if v.strip()]
        single = grade_file(SIN_NET, pairs)
        assert [m.points for m in single.marks] == [m.points for m in rep.marks], st.id


def test_hostile_cells_get_zero_with_a_reason(tmp_path):
    r = classgrade.grade_class(SIN_NET, _write(tmp_path, CLASS))
    carol = next(rep for st, rep in r.rows if st.id == "carol")
    marks = {m.name: m for m in carol.marks}
    for name in ("u", "y", "w after 1 step"):
        assert marks[name].points == 0 and marks[name].given and marks[name].feedback, name
    long_cell = "1" * (classgrade.MAX_CELL + 1)
    r = classgrade.grade_class(SIN_NET, _write(tmp_path, f"id,u\nx,{long_cell}\n", "long.csv"))
    m = r.rows[0][1].marks[0]
    assert m.points == 0 and "longer" in m.feedback


def test_scores_csv_is_safe_for_spreadsheets(tmp_path):
    r = classgrade.grade_class(SIN_NET, _write(tmp_path, CLASS))
    rows = list(csv.reader(io.StringIO(classgrade.scores_csv(r))))
    assert rows[0] == ["id", "variant", "u", "y", "L", "dL/dw", "w after 1 step", "total", "max"]
    assert rows[4][0] == "'=HYPERLINK(\"http://x\")"          # a formula becomes text
    assert [row[-2] for row in rows[1:]] == ["6", "1", "2", "1"]
    assert all(not c.startswith(classgrade.UNSAFE_START) for row in rows for c in row)


def test_summary_counts_known_mistakes(tmp_path):
    s = classgrade.summary(classgrade.grade_class(SIN_NET, _write(tmp_path, CLASS)))
    assert s["students"] == 4
    assert s["answers"]["y"]["distribution"] == {"0": 2, "1": 2}     # alice, bob right; carol wrong; 4th empty
    half = [m for m in s["mistakes"] if m["answer"] == "L"]
    assert half and half[0]["students"] == 1 and "½" in half[0]["feedback"]


def test_moodle_responses_layout(tmp_path):
    # one Cloze question: the 7 fields in export order (u, y, L, dL/dw[0], dL/dw[1], w[0], w[1])
    text = ("Surname,First name,Email address,State,Grade/6.00,Response 1\n"
            'Doe,Ann,ann@example.org,Finished,6.00,"part 1: 6.28; part 2: 0; part 3: 4; part 4: -8; part 5: -4; '
            'part 6: 5.571; part 7: 5.142"\n'
            'Roe,Ben,ben@example.org,Finished,1.00,"part 1: 6.28; part 2: 1; part 3: 8; part 4: -4; part 5: -2"\n')
    r = classgrade.grade_class(SIN_NET, _write(tmp_path, text, "moodle.csv"))
    totals = {st.id: sum(m.points for m in rep.marks) for st, rep in r.rows}
    assert totals == {"ann@example.org": 6, "ben@example.org": 1}      # Ben: only u right


def test_cli_class_csv_and_json(tmp_path):
    src = _write(tmp_path, CLASS)
    out = tmp_path / "scores.csv"
    r = CliRunner().invoke(main, ["grade", SIN_NET, "--class", src, "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "known mistakes" in r.output
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("alice,sin_net.yaml,1,1,1,2,1,6,6")
    r = CliRunner().invoke(main, ["grade", SIN_NET, "--class", src, "--format", "json"])
    data = json.loads(r.output[:r.output.index("\n}\n") + 3])
    assert [s["points"] for s in data["students"]] == [6, 1, 2, 1]


def test_cli_bad_header_exit_2(tmp_path):
    src = _write(tmp_path, "id,nonsense\nx,1\n")
    r = CliRunner().invoke(main, ["grade", SIN_NET, "--class", src])
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and "class.csv:1:2: column 'nonsense' names no answer" in r.output


# ---- a generated class: every kind of answer, totals by hand and equal to single grade calls -----------------

NAMES = ("u", "y", "L", "dL/dw", "w after 1 step")
# each kind's answers and their points, by hand (u 1, y 1, L 1, dL/dw 2, w after 1 step 1):
KINDS = {
    # exact: all right
    "right": (("2*pi", "0", "4", "[-8, -4]", "[pi/2 + 4, 2 + pi]"), (1, 1, 1, 2, 1)),
    # 6.283 is 2π = 6.283185… to 3 decimals; 4.00 and [-8.0, -4.0] are exact; 4 + π/2 = 5.570796… → 5.571,
    # 2 + π = 5.141593… → 5.142
    "rounded": (("6.283", "0", "4.00", "[-8.0, -4.0]", "[5.571, 5.142]"), (1, 1, 1, 2, 1)),
    # u's sign flipped (0); y = 0 is right (1); the ½ convention: L = ½(0 − 2)² = 2, dL/dw = (−4, −2),
    # w after 1 step = (π/2 + 2, π + 1) = (3.571, 4.142) (all 0)
    "mistake": (("-6.283", "0", "2", "[-4, -2]", "[3.571, 4.142]"), (0, 1, 0, 0, 0)),
    # a formula, 10**10**10, empty (not answered), text, a vector of the wrong length: all 0
    "garbage": (("=cmd|' /C calc'!A0", "10**10**10", "", "ü", "[1, 2, 3]"), (0, 0, 0, 0, 0)),
}


def _generated(n: int, seed: int) -> tuple[str, dict]:
    """A class CSV of n students, each answer of a random kind; the expected points per student."""
    import random

    rng = random.Random(seed)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", *NAMES])
    want = {}
    for i in range(n):
        kinds = [rng.choice(list(KINDS)) for _ in NAMES]
        w.writerow([f"s{i}"] + [KINDS[k][0][j] for j, k in enumerate(kinds)])
        want[f"s{i}"] = [KINDS[k][1][j] for j, k in enumerate(kinds)]
    return buf.getvalue(), want


def test_generated_class_totals_by_hand_and_equal_single_calls(tmp_path):
    text, want = _generated(16, seed=3)
    r = classgrade.grade_class(SIN_NET, _write(tmp_path, text))
    for st, rep in r.rows:
        got = {m.name: m.points for m in rep.marks}
        assert [got[n] for n in NAMES] == want[st.id], st.id
        single = grade_file(SIN_NET, [f"{n}={v}" for n, v in st.answers.items() if v.strip()])
        assert sum(m.points for m in single.marks) == sum(m.points for m in rep.marks), st.id
    scores = list(csv.DictReader(io.StringIO(classgrade.scores_csv(r))))
    assert [int(row["total"]) for row in scores] == [sum(want[row["id"]]) for row in scores]


def test_generated_hostile_cells_get_zero_with_a_reason(tmp_path):
    text, _ = _generated(16, seed=3)
    r = classgrade.grade_class(SIN_NET, _write(tmp_path, text))
    hostile = dict(zip(NAMES, KINDS["garbage"][0]))
    seen = 0
    for st, rep in r.rows:
        for m in rep.marks:
            if st.answers.get(m.name) == hostile[m.name] and hostile[m.name]:
                assert m.points == 0 and m.feedback, (st.id, m.name)
                seen += 1
    assert seen >= 4

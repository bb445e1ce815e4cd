"""The command line: wires load_spec -> solve -> render. No maths and no formatting here."""
from __future__ import annotations

import os
import sys

import click

from examsolve.errors import ExamsolveError

FORMATS = ("terminal", "latex", "markdown", "json", "html")
EXIT_INTERNAL = 3


def _fail(err: Exception) -> int:
    """Print one line for an error and return its exit code."""
    if isinstance(err, ExamsolveError):
        click.echo(f"error: {err}" if err.loc is None else str(err), err=True)
        return err.exit_code
    if isinstance(err, MemoryError):
        from examsolve import budget
        err = budget.translate(err)
        click.echo(str(err), err=True)
        return err.exit_code
    if isinstance(err, RecursionError):
        click.echo("error: the problem is too deeply nested to solve; split it into smaller equations", err=True)
        return 1
    if os.environ.get("EXAMSOLVE_DEBUG"):
        raise err
    click.echo(f"internal error (a bug in examsolve): {type(err).__name__}: {err}; "
               "set EXAMSOLVE_DEBUG=1 for the traceback and please report it", err=True)
    return EXIT_INTERNAL


def _emit(make_text, output: str | None, inputs=()) -> None:
    """Write what make_text() returns to the output file (atomically) or standard output; errors as one line."""
    try:
        if output:
            from examsolve import outputs
            outputs.check_target(output, inputs)   # before the work, so a bad -o fails fast
        text = make_text()
        if output:
            outputs.write(output, text, inputs)
        else:
            _echo(text)
    except Exception as err:  # noqa: BLE001 - every error becomes one line and an exit code
        sys.exit(_fail(err))


def _echo(text: str, chunk: int = 1 << 20) -> None:
    """click.echo of text in pieces of about chunk characters cut after a line end, so a 13 MB JSON is not also
    held once more as bytes (an ANSI code never spans a line end)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start + chunk)
        end = len(text) if end < 0 else end + 1
        click.echo(text[start:end], nl=False)
        start = end


def _exit_on_sigterm() -> None:
    """SIGTERM exits through Python's unwinding, so temporary folders and files are removed on the way out."""
    import signal
    import threading

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


class _Group(click.Group):
    """click's group, with usage errors as one line (exit 2) instead of click's four."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        _exit_on_sigterm()
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            code = 130
        except ExamsolveError as e:      # the time budget's last alarm, raised while a command was exiting
            code = _fail(e)
        except click.UsageError as e:
            where = e.ctx.command_path if e.ctx else "examsolve"
            click.echo(f"error: {e.format_message().rstrip('.')}; see `{where} --help`", err=True)
            code = 2
        except click.ClickException as e:
            click.echo(f"error: {e.format_message()}", err=True)
            code = e.exit_code
        except click.Abort:
            click.echo("error: aborted", err=True)
            code = 1
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _budgeted(command):
    """Add --time-limit to a command that solves and run it inside the run's budget (time, number size, memory)."""
    import functools

    @click.option("--time-limit", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
                  help="Stop with exit 1 after this many seconds (default 60, or EXAMSOLVE_TIME_LIMIT; 0: no limit).")
    @functools.wraps(command)
    def wrapper(*args, time_limit=None, **kwargs):
        from examsolve import budget, tensor_stand_in

        tensor_stand_in.install()     # sympy's first sum then imports no sympy.combinatorics (see there)

        try:
            budget.start(time_limit)
        except Exception as err:  # noqa: BLE001
            sys.exit(_fail(err))
        try:
            result = command(*args, **kwargs)
        except BaseException as err:
            # disarm first: the budget's timer repeats after its deadline and must not fire while we exit
            budget.stop()
            if isinstance(err, (MemoryError, ExamsolveError)):
                sys.exit(_fail(err))
            raise
        budget.stop()
        return result
    return wrapper


def _version() -> str:
    from examsolve import __version__
    return __version__


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="examsolve")
def main() -> None:
    """Exact, step-by-step solutions to deep-learning exam questions written as YAML specs.

    \b
    examsolve list                            the problem families
    examsolve new graph > my.yaml             a template to start from
    examsolve run problems/bn_jacobian.yaml   solve and show every step
    examsolve run problems/sin_net.yaml --format latex --standalone > sin.tex
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="terminal", show_default=True,
              help="Output format.")
@click.option("--digits", type=click.IntRange(1, 50), default=6, show_default=True,
              help="Significant digits of decimal forms.")
@click.option("--standalone", is_flag=True, help="LaTeX: a complete document that compiles as is.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@click.option("--strict", is_flag=True, help="Exit 1 when an answer disagrees with the spec's key.")
@click.option("--color/--no-color", default=None, help="Colour terminal output (default: when a TTY).")
@click.option("--with-graph", is_flag=True,
              help="Add the computational graph (latex: TikZ; markdown: DOT; terminal: a tree; json: nodes/edges).")
@click.option("--answers", "which", type=click.Choice(("asked", "all")), default="asked", show_default=True,
              help="all: every quantity the solution computes (names that key:, points: and grade can use).")
@_budgeted
def run(files, fmt, digits, standalone, output, strict, color, with_graph, which) -> None:
    """Solve spec FILES and print the worked solution.

    \b
    Example:
      examsolve run problems/sin_net.yaml
      examsolve run problems/*.yaml --format latex --standalone -o answers.tex
      examsolve run problems/sin_net.yaml --answers all     # every quantity, by the name key: uses
    """
    from examsolve.renderers import render_many

    if output:
        _check_output(output, files)
    solutions, drawings, code = _solve_all(files, with_graph)
    if which == "all":
        from examsolve.quantity import with_all
        solutions = [with_all(s) for s in solutions]
    if output and code:
        # an output file holds every problem asked for, or stays as it was
        if len(files) > 1:
            click.echo(f"{output}: not written, since some problems could not be solved", err=True)
    elif solutions:
        if color is None:
            color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        _emit(lambda: render_many(solutions, fmt, digits=digits, standalone=standalone, color=color,
                                  drawings=drawings if with_graph else None), output, files)
    if strict:
        bad = [(s, a) for s in solutions for a in s.answers if a.agrees is False]
        for s, a in bad:
            click.echo(f"{s.file}: answer '{a.name}' disagrees with the key", err=True)
        if bad:
            code = max(code, 1)
    sys.exit(code)


def _check_output(output: str, inputs) -> None:
    """Exit 2 at once when output would replace an input or cannot be written."""
    from examsolve import outputs

    try:
        outputs.check_target(output, inputs)
    except Exception as err:  # noqa: BLE001
        sys.exit(_fail(err))


def _solve_all(files, with_graph: bool) -> tuple[list, list, int]:
    """Solve every file (one error line each); the drawings too when asked."""
    from examsolve import solve
    from examsolve.spec import load_spec

    solutions, drawings, code = [], [], 0
    for path in files:
        try:
            spec = load_spec(path, light=True)
            sol = solve(spec)
            d = None
            if with_graph and sol.graph is not None:
                from examsolve import drawing   # only drawings need it (sympy's tree walkers, layout)

                d = drawing.build(sol.graph, spec.model.conventions.model_dump(), drawing.default_of(spec),
                                  title=sol.title, names=sol.names, backprop=sol.backprop)
            solutions.append(sol)
            drawings.append(d)
        except Exception as err:  # noqa: BLE001 - every error becomes one line and an exit code
            code = max(code, _fail(err))
    return solutions, drawings, code


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--output", "-o", default="answers.tex", show_default=True, type=click.Path(dir_okay=False),
              help="answers.tex, answers.pdf to compile it with latexmk, or answers.html (one web page).")
@click.option("--with-graph", is_flag=True, help="Draw each problem's computational graph (TikZ).")
@click.option("--title", help="Title of the sheet (default: Answers, Questions or Answer key).")
@click.option("--digits", type=click.IntRange(1, 50), default=6, show_default=True,
              help="Significant digits of decimal forms.")
@click.option("--questions-only", "questions", is_flag=True,
              help="The questions without solutions: statement, given values, what is asked, points "
              "(with --with-graph, the graph without values).")
@click.option("--key", is_flag=True, help="The answer key: each problem's boxed answers only.")
@_budgeted
def sheet(files, output, with_graph, title, digits, questions, key) -> None:
    """Make one answer sheet (LaTeX, PDF or HTML) from spec FILES or folders of them.

    \b
    Example:
      examsolve sheet problems/ --output answers.pdf --with-graph --title "Exam A, key"
      examsolve sheet variants/*.yaml --questions-only --output exam.pdf
      examsolve sheet variants/*.yaml --key --output key.pdf
    """
    if questions and key:
        click.echo("error: --questions-only and --key make different sheets; run sheet twice", err=True)
        sys.exit(2)
    from examsolve.renderers import sheet as sheet_renderer

    paths = []
    for f in files:
        if os.path.isdir(f):
            paths.extend(sorted(os.path.join(f, n) for n in os.listdir(f) if n.endswith((".yaml", ".yml"))))
        else:
            paths.append(f)
    _check_output(output, paths)
    solutions, drawings, code = _solve_all(paths, with_graph)
    if not solutions:
        sys.exit(code or 2)
    try:
        from examsolve import outputs

        mode = "questions" if questions else "key" if key else "solutions"
        title = title or {"questions": "Questions", "key": "Answer key"}.get(mode, "Answers")
        if output.endswith((".html", ".htm")):
            from examsolve.renderers import html
            page = html.render(solutions, digits, drawings if with_graph else None, title=title, mode=mode)
            outputs.write(output, page, paths)
        else:
            tex = sheet_renderer.render(solutions, digits, title, drawings if with_graph else None, mode=mode)
            outputs.write(output, sheet_renderer.to_pdf(tex) if output.endswith(".pdf") else tex, paths)
    except Exception as err:  # noqa: BLE001
        sys.exit(_fail(err))
    click.echo(f"{output}: {len(solutions)} problem{'s' if len(solutions) != 1 else ''}", err=True)
    sys.exit(code)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--count", "-n", type=click.IntRange(1, 200), default=5, show_default=True, help="How many variants.")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same variants.")
@click.option("--output", "-o", "outdir", default="variants", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the variant specs (made if missing).")
@click.option("--force", is_flag=True, help="Replace variant files that exist with other content.")
@_budgeted
def variants(file, count, seed, outdir, force) -> None:
    """Write COUNT variants of a spec with a vary: block, each solvable and meeting its require: conditions.

    \b
    Example:
      examsolve variants problems/bn_jacobian.yaml --count 5 --seed 1
      examsolve sheet variants/*.yaml --questions-only --output exam.pdf
    """
    from examsolve.variants import make_variants

    from examsolve import outputs
    from examsolve.errors import SpecError

    try:
        made = make_variants(file, count, seed, progress=lambda line: click.echo(line, err=True))
        targets = [(os.path.join(outdir, v.name), v.text) for v in made]
        changed = [p for p, text in targets if _differs(p, text)]
        if changed and not force:
            raise SpecError(f"{changed[0]}: exists with other content ({len(changed)} file"
                            f"{'s' if len(changed) != 1 else ''} would change); nothing was written; "
                            "add --force to replace them or choose another --output folder")
        os.makedirs(outdir, exist_ok=True)
        for p, text in targets:
            outputs.write(p, text, (file,))
    except Exception as err:  # noqa: BLE001 - every error becomes one line and an exit code
        sys.exit(_fail(err))
    click.echo(f"{outdir}: {len(made)} variant{'s' if len(made) != 1 else ''} of {file}", err=True)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--answer", "-a", "pairs", multiple=True, metavar="NAME=VALUE",
              help="A student's answer, e.g. 'dL/dw=[-8,-4]'; repeat for more.")
@click.option("--answers", "answers_file", type=click.Path(dir_okay=False),
              help="A YAML file of answers: 'dL/dw: [-8, -4]' per line.")
@click.option("--exact", is_flag=True, help="Numbers must equal the exact answer.")
@click.option("--rel", type=click.FloatRange(min=0), help="Relative tolerance for every number, e.g. 1e-3.")
@click.option("--abs", "abs_", type=click.FloatRange(min=0), help="Absolute tolerance for every number, e.g. 0.01.")
@click.option("--sig", type=click.IntRange(1, 30), help="Agree when rounded to this many significant figures.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--class", "class_csv", type=click.Path(dir_okay=False),
              help="Grade a class: a CSV with id,variant,<answer names> (or Moodle's Responses report).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="--class: write the scores CSV (or JSON) here.")
@click.option("--follow-through", "follow_through", is_flag=True,
              help="Credit carried forward: a later answer right for the student's own wrong earlier values "
                   "(graph nodes) gets its points.")
@_budgeted
def grade(file, pairs, answers_file, exact, rel, abs_, sig, fmt, class_csv, output, follow_through) -> None:
    """Grade a student's answers to the spec FILE: points per answer and feedback on known wrong paths.

    By default a decimal must be right to the digits written (at least 3 significant figures) and an
    exact answer must be equal; the spec's tolerance: and the options below change that.

    \b
    Example:
      examsolve grade problems/sin_net.yaml --answer 'dL/dw=[-8,-4]'
      examsolve grade problems/sin_net.yaml --answer 'dL/dw=[-8.001,-4]' --rel 1e-3
      examsolve grade variants/bn_jacobian.v1.yaml --answers student.yaml --format json
      examsolve grade problems/sin_net.yaml --class responses.csv -o scores.csv
      examsolve grade problems/sin_net.yaml --follow-through --answer u=pi/3 --answer 'y=sqrt(3)/2'
    """
    from examsolve.grading import grade_file, report_json, report_text

    if class_csv:
        return _grade_class(file, class_csv, output, fmt, exact, rel, abs_, sig, follow_through)
    if not pairs and not answers_file:
        click.echo("error: no answers to grade; give --answer 'NAME=VALUE' (names as `examsolve run` prints them) "
                   "or --answers FILE", err=True)
        sys.exit(2)
    try:
        report = grade_file(file, pairs, answers_file, exact=exact, rel=rel, abs_=abs_, sig=sig,
                            follow_through=follow_through)
    except Exception as err:  # noqa: BLE001 - every error becomes one line and an exit code
        sys.exit(_fail(err))
    click.echo(report_json(report) if fmt == "json" else report_text(report), nl=False)


def _grade_class(file, class_csv, output, fmt, exact, rel, abs_, sig, follow_through=False) -> None:
    """grade --class: scores CSV (or JSON) to -o or standard output, the summary table on standard error."""
    from examsolve.compare import Rule
    from examsolve.export import classgrade

    rule = (Rule("exact") if exact else Rule("rel", rel) if rel is not None else Rule("abs", abs_)
            if abs_ is not None else Rule("sig", sig) if sig is not None else None)
    holder = []

    def make() -> str:
        holder.append(classgrade.grade_class(file, class_csv, rule, follow_through))
        return classgrade.report_json(holder[0]) if fmt == "json" else classgrade.scores_csv(holder[0])
    _emit(make, output, (file, class_csv))
    click.echo(classgrade.summary_text(holder[0]), err=True, nl=False)
@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option("--to", "to", required=True, type=click.Choice(("moodle", "canvas", "prairielearn")),
              help="moodle: quiz.xml; canvas: a QTI 1.2 quiz.zip; prairielearn: a folder of question folders.")
@click.option("--output", "-o", "out", required=True, type=click.Path(), help="quiz.xml, quiz.zip or a folder (pl/).")
@click.option("--variants", "count", type=click.IntRange(1, 200), default=None,
              help="Draw this many variants of each spec with a vary: block (default: the files as they are).")
@click.option("--seed", type=int, default=0, show_default=True, help="The same seed gives the same variants.")
@_budgeted
def export(files, to, out, count, seed) -> None:
    """Export spec FILES (or folders of them) to an LMS: one question per variant, drawn one per student.

    Files x.v1.yaml, x.v2.yaml ... (from `examsolve variants`) become one problem's variants.

    \b
    Example:
      examsolve export problems/ --to moodle -o quiz.xml
      examsolve export problems/sin_net.yaml --to canvas -o quiz.zip --variants 5 --seed 1
      examsolve export variants/ --to prairielearn -o pl/
    """
    from examsolve.export import export as export_to

    try:
        problems = export_to(files, to, out, count, seed, progress=lambda line: click.echo(line, err=True))
    except Exception as err:  # noqa: BLE001 - every error becomes one line and an exit code
        sys.exit(_fail(err))
    n = sum(len(p.questions) for p in problems)
    click.echo(f"{out}: {len(problems)} problem{'s' if len(problems) != 1 else ''}, {n} question"
               f"{'s' if n != 1 else ''} ({to})", err=True)


def _differs(path: str, text: str) -> bool:
    """True when path exists and holds something other than text."""
    try:
        with open(path, "rb") as f:
            return f.read() != text.encode("utf-8")
    except FileNotFoundError:
        return False
    except OSError:
        return True


GRAPH_FORMATS = ("dot", "tikz", "svg", "text")


@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(GRAPH_FORMATS), default="text", show_default=True,
              help="dot (Graphviz), tikz (LaTeX), svg (runs graphviz's dot) or text (a tree).")
@click.option("--values/--no-values", default=True, show_default=True, help="Forward values on the edges.")
@click.option("--grads/--no-grads", default=True, show_default=True, help="Gradients on the edges.")
@click.option("--of", "of", default=None,
              help="The scalar whose gradients are drawn (default: the first grad ask's, else the last equation).")
@click.option("--standalone", is_flag=True, help="tikz: a complete document that compiles as is.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
              help="Write to this file instead of standard output.")
@_budgeted
def graph(file, fmt, values, grads, of, standalone, output) -> None:
    """Draw the computational graph of FILE: every operator a node, values and gradients on the edges.

    \b
    Example:
      examsolve graph problems/sin_net.yaml --format dot | dot -Tsvg > sin_net.svg
      examsolve graph problems/sin_net.yaml --format tikz --standalone -o graph.tex
    """
    _emit(lambda: _drawing_text(file, fmt, values, grads, of, standalone), output, (file,))


def _drawing_text(file, fmt, values, grads, of, standalone) -> str:
    from examsolve import drawing, solve
    from examsolve.renderers import dot, tikz, tree
    from examsolve.spec import load_spec

    spec = load_spec(file, light=True)
    sol = solve(spec)
    d = drawing.build(sol.graph, spec.model.conventions.model_dump(), of or drawing.default_of(spec),
                      grads=grads, title=sol.title, strict=of is not None, names=sol.names,
                      backprop=sol.backprop)
    if fmt == "tikz":
        return tikz.standalone(d, values, grads) if standalone else tikz.render(d, values, grads)
    if fmt == "text":
        return tree.render(d, values, grads)
    text = dot.render(d, values, grads)
    return dot.to_svg(text) if fmt == "svg" else text


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_budgeted
def check(files) -> None:
    """Validate spec FILES without solving them, the paths of vary: and mistakes: too (exit 2 when one is bad)."""
    from examsolve.spec import load_spec
    from examsolve.variants import check_paths

    code = 0
    for path in files:
        try:
            check_paths(load_spec(path, light=True))
            click.echo(f"{path}: ok")
        except Exception as err:  # noqa: BLE001
            code = max(code, _fail(err))
    sys.exit(code)


@main.command(name="list")
def list_() -> None:
    """List the problem families (the values of `kind:`)."""
    from examsolve.catalog import CATALOG   # names, summaries, examples: no family module imported

    width = max(len(n) for n in CATALOG)
    for name, (summary, examples) in CATALOG.items():
        click.echo(f"{name:<{width}}  {summary}")
        if examples:
            click.echo(f"{'':<{width}}  examples: {', '.join('problems/' + e for e in examples)}")


@main.command()
@click.argument("kind")
def new(kind) -> None:
    """Print a commented spec template for KIND that runs as it is.

    \b
    Example:
      examsolve new batchnorm > my_bn.yaml && examsolve run my_bn.yaml
    """
    from importlib import resources

    from examsolve.registry import check_kind

    try:
        check_kind(kind)
        click.echo(resources.files("examsolve").joinpath("templates", f"{kind}.yaml").read_text("utf-8"), nl=False)
    except FileNotFoundError:
        sys.exit(_fail(ValueError(f"no template for {kind}")))
    except Exception as err:  # noqa: BLE001
        sys.exit(_fail(err))


@main.command()
@click.argument("kind", required=False)
@click.option("--output", "output_schema", is_flag=True, help="The schema of `run --format json` instead (the output "
              "contract for scripts).")
def schema(kind, output_schema) -> None:
    """Print the JSON Schema of specs (of one KIND, or of all) for editors, or of the JSON output.

    \b
    Save it and point your editor at it with a first line in the spec:
      # yaml-language-server: $schema=./examsolve.schema.json
    examsolve schema --output > examsolve.output.schema.json
    """
    import json

    from examsolve.registry import get_family, load_all

    try:
        if output_schema:
            from examsolve.output_schema import schema as output
            out = output()
        elif kind:
            out = get_family(kind).model().model_json_schema()
        else:
            fams = load_all()
            models = {id(f.model()): f.model() for f in fams.values()}
            schemas = [m.model_json_schema() for m in models.values()]
            out = schemas[0] if len(schemas) == 1 else {"anyOf": schemas}
        out["title"] = out.get("title", "examsolve spec")
        click.echo(json.dumps(out, indent=2, sort_keys=True))
    except Exception as err:  # noqa: BLE001
        sys.exit(_fail(err))

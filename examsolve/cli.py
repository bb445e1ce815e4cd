"""The command line: wires load_spec -> solve -> render. No maths and no formatting here."""
from __future__ import annotations

import os
import sys

import click

FORMATS = ("terminal", "latex", "markdown", "json")
EXIT_INTERNAL = 3


def _fail(err: Exception) -> int:
    """Print one line for an error and return its exit code."""
    from examsolve.errors import ExamsolveError

    if isinstance(err, ExamsolveError):
        click.echo(f"error: {err}" if err.loc is None else str(err), err=True)
        return err.exit_code
    if isinstance(err, RecursionError):
        click.echo("error: the problem is too deeply nested to solve; split it into smaller equations", err=True)
        return 1
    if os.environ.get("EXAMSOLVE_DEBUG"):
        raise err
    click.echo(f"internal error (a bug in examsolve): {type(err).__name__}: {err}; "
               "set EXAMSOLVE_DEBUG=1 for the traceback and please report it", err=True)
    return EXIT_INTERNAL


def _version() -> str:
    from examsolve import __version__
    return __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
def run(files, fmt, digits, standalone, output, strict, color) -> None:
    """Solve spec FILES and print the worked solution.

    \b
    Example:
      examsolve run problems/sin_net.yaml
      examsolve run problems/*.yaml --format latex --standalone -o answers.tex
    """
    from examsolve import load_spec, solve
    from examsolve.renderers import render_many

    solutions, code = [], 0
    for path in files:
        try:
            solutions.append(solve(load_spec(path)))
        except Exception as err:  # noqa: BLE001 - every error becomes one line and an exit code
            code = max(code, _fail(err))
    if solutions:
        if color is None:
            color = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        try:
            text = render_many(solutions, fmt, digits=digits, standalone=standalone, color=color)
        except Exception as err:  # noqa: BLE001
            sys.exit(_fail(err))
        if output:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            click.echo(text, nl=False)
    if strict:
        bad = [(s, a) for s in solutions for a in s.answers if a.agrees is False]
        for s, a in bad:
            click.echo(f"{s.file}: answer '{a.name}' disagrees with the key", err=True)
        if bad:
            code = max(code, 1)
    sys.exit(code)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def check(files) -> None:
    """Validate spec FILES without solving them (exit 2 on the first bad one)."""
    from examsolve import load_spec

    code = 0
    for path in files:
        try:
            load_spec(path)
            click.echo(f"{path}: ok")
        except Exception as err:  # noqa: BLE001
            code = max(code, _fail(err))
    sys.exit(code)


@main.command(name="list")
def list_() -> None:
    """List the problem families (the values of `kind:`)."""
    from examsolve.registry import load_all

    fams = load_all()
    width = max(len(n) for n in fams)
    for name, fam in fams.items():
        click.echo(f"{name:<{width}}  {fam.summary}")
        if fam.examples:
            click.echo(f"{'':<{width}}  examples: {', '.join('problems/' + e for e in fam.examples)}")


@main.command()
@click.argument("kind")
def new(kind) -> None:
    """Print a commented spec template for KIND that runs as it is.

    \b
    Example:
      examsolve new batchnorm > my_bn.yaml && examsolve run my_bn.yaml
    """
    from importlib import resources

    from examsolve.registry import get_family

    try:
        get_family(kind)
        click.echo(resources.files("examsolve").joinpath("templates", f"{kind}.yaml").read_text("utf-8"), nl=False)
    except FileNotFoundError:
        sys.exit(_fail(ValueError(f"no template for {kind}")))
    except Exception as err:  # noqa: BLE001
        sys.exit(_fail(err))


@main.command()
@click.argument("kind", required=False)
def schema(kind) -> None:
    """Print the JSON Schema of specs (of one KIND, or of all) for editors.

    \b
    Save it and point your editor at it with a first line in the spec:
      # yaml-language-server: $schema=./examsolve.schema.json
    """
    import json

    from examsolve.registry import get_family, load_all

    try:
        if kind:
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

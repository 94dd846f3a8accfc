"""One Python function per study command, made from the command's own
definition: the keyword arguments are its long options (``--tcp-threshold``
is ``tcp_threshold``), their defaults its defaults, and the docstring its
``--help``."""

import inspect
import keyword
import os
import sys

from . import _native
from ._result import Result, raise_diagnostics


def _default(spec):
    """The Python value of an option's default, as ``--help`` shows it."""
    if spec["flag"]:
        return False
    values = spec["defaults"]
    if not values:
        return None
    converted = [_number(v) for v in values]
    if spec["multiple"]:
        return converted
    return converted[0]


def _number(text):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _python_name(spec):
    """An option's keyword: its long name with '_' for '-', and a trailing
    '_' when that is a Python keyword (``--from`` is ``from_``)."""
    name = spec["name"]
    return f"{name}_" if keyword.iskeyword(name) else name


def _arguments(name, specs, positional, options):
    """The command line that ``options`` make, after the study's name."""
    argv = [name]
    for spec in specs:
        key = _python_name(spec)
        if spec["long"] is None:
            argv.append(os.fspath(positional[key]))
            continue
        if key not in options:
            continue
        value = options[key]
        if spec["flag"]:
            if not isinstance(value, bool):
                raise TypeError(f"{name}(): {key} takes True or False, not {value!r}")
            if value:
                argv.append(spec["long"])
            continue
        if value is None:
            continue
        values = value if spec["multiple"] and isinstance(value, (list, tuple)) else [value]
        for item in values:
            if isinstance(item, bool):
                raise TypeError(f"{name}(): {key} takes a value, not {item!r}")
            if isinstance(item, os.PathLike):
                item = os.fspath(item)
            argv.append(f"{spec['long']}={item}")
    return argv


def _progress_bar(quiet, what):
    """A tqdm bar in Jupyter or on a terminal, unless ``quiet`` or tqdm is
    not installed; ``None`` otherwise."""
    if quiet:
        return None
    interactive = "ipykernel" in sys.modules or (
        hasattr(sys.stderr, "isatty") and sys.stderr.isatty()
    )
    if not interactive:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(desc=what, unit=" units", leave=False)


def make_study(name):
    """The function for study ``name``."""
    specs = _native.options(name)
    positional = [s for s in specs if s["long"] is None]
    keywords = [s for s in specs if s["long"] is not None]

    def study(*args, quiet=False, **options):
        try:
            bound = signature.bind(*args, quiet=quiet, **options)
        except TypeError as e:
            raise TypeError(f"{name}(): {e}") from None
        given = bound.arguments
        argv = _arguments(name, specs, given, given)
        bar = _progress_bar(given.get("quiet", False), name)

        def report(done, total):
            if bar is not None:
                if total and bar.total != total:
                    bar.total = total
                bar.n = done
                bar.refresh()

        try:
            native = _native.run(argv, report if bar is not None else None)
        except _native.InputError as e:
            from . import InputError

            raise InputError(*e.args) from None
        finally:
            if bar is not None:
                bar.close()
        result = Result(native)
        raise_diagnostics(result, stacklevel=2)
        return result

    parameters = [
        inspect.Parameter(_python_name(s), inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for s in positional
    ]
    parameters += [
        inspect.Parameter(_python_name(s), inspect.Parameter.KEYWORD_ONLY, default=_default(s))
        for s in keywords
    ]
    parameters.append(inspect.Parameter("quiet", inspect.Parameter.KEYWORD_ONLY, default=False))
    signature = inspect.Signature(parameters, return_annotation=Result)
    study.__name__ = study.__qualname__ = name
    study.__module__ = "expost"
    study.__signature__ = signature
    study.__doc__ = _docstring(name)
    return study


def _docstring(name):
    return (
        f"Runs the {name} study and returns its Result (tables, figures, summary).\n\n"
        f"Keyword arguments are the long options of `expost {name}` below, '-'\n"
        "written '_' (--tcp-threshold is tcp_threshold; a Python keyword gets a\n"
        "trailing '_': --from is from_). A flag is True or False; an option given\n"
        "several times takes a list. -o, --json and --save-study belong to the\n"
        "command: write the result with Result.write(dir) instead. quiet=True\n"
        "hides the progress bar (shown in Jupyter when tqdm is installed).\n"
        "Diagnostics are raised as warnings (expost.NoteDiagnostic,\n"
        "WarningDiagnostic, ErrorDiagnostic) at their file and line; a bad\n"
        "option raises ValueError, an input that cannot be used InputError.\n\n"
        + _native.help(name)
    )

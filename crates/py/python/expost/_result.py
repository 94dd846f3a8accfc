"""What a study gives back: Arrow tables (with pandas and Polars
conversions), figures that show in Jupyter, the JSON summary, and the
outputs of ``-o DIR``."""

import json
import os
import warnings


class NoteDiagnostic(UserWarning):
    """A diagnostic of severity note: something was noticed and kept.
    Ignored unless a warnings filter asks for it."""


class WarningDiagnostic(UserWarning):
    """A diagnostic of severity warning: something was skipped, repaired or
    guessed; the result is still usable."""


class ErrorDiagnostic(UserWarning):
    """A diagnostic of severity error: a file or a whole unit could not be
    used (the command would exit with 1)."""


CATEGORIES = {
    "note": NoteDiagnostic,
    "warning": WarningDiagnostic,
    "error": ErrorDiagnostic,
}

# Notes are many and informational: shown only when asked for (a filter of
# the user's own comes first).
warnings.filterwarnings("ignore", category=NoteDiagnostic, append=True)


def warn_diagnostics(rows):
    """Raises each ``(unit, severity, file, line, message)`` as a warning of
    its severity's category, at its file and line."""
    for unit, severity, file, line, message in rows:
        text = f"{unit}: {message}" if unit and unit != file else message
        warnings.warn_explicit(
            text,
            CATEGORIES.get(severity, WarningDiagnostic),
            filename=file or "<expost>",
            lineno=line or 0,
            module="expost",
        )


def raise_diagnostics(result, stacklevel=1):
    """Raises every diagnostic of ``result`` as a warning."""
    del stacklevel  # each warning carries its own file and line
    warn_diagnostics(result._native.diagnostics())


class Table:
    """An Arrow table from expost, handed over without copying.

    Any library that reads the Arrow PyCapsule interface takes it as it is
    (``pyarrow.table(t)``, ``polars.DataFrame(t)``); ``to_arrow``,
    ``to_pandas`` and ``to_polars`` do that for you."""

    def __init__(self, native, name=""):
        self._native = native
        self.name = name

    def __arrow_c_stream__(self, requested_schema=None):
        return self._native.__arrow_c_stream__(requested_schema)

    def __arrow_c_schema__(self):
        return self._native.__arrow_c_schema__()

    def __len__(self):
        return self._native.num_rows

    @property
    def num_rows(self):
        """The number of rows."""
        return self._native.num_rows

    @property
    def column_names(self):
        """The column names, in order."""
        return self._native.column_names

    def to_arrow(self):
        """A ``pyarrow.Table`` (pyarrow 14 or later)."""
        import pyarrow

        return pyarrow.table(self)

    def to_pandas(self, **options):
        """A ``pandas.DataFrame`` (through pyarrow; text columns become
        categoricals). ``options`` go to ``pyarrow.Table.to_pandas``."""
        return self.to_arrow().to_pandas(**options)

    def to_polars(self):
        """A ``polars.DataFrame`` (text columns become categoricals)."""
        import polars

        return polars.DataFrame(self)

    def _repr_html_(self):
        try:
            return self.to_pandas()._repr_html_()
        except ImportError:
            return None

    def __repr__(self):
        return f"<expost.Table {self.name}: {self.num_rows} rows; {', '.join(self.column_names)}>"


class Figure:
    """A figure or chart of a study: shows inline in Jupyter (SVG or PNG)
    and saves as SVG, PNG or PDF, the files ``-o DIR`` writes."""

    def __init__(self, result, name, title, kind):
        self._result = result
        self.name = name
        self.title = title
        self.kind = kind

    def svg(self):
        """The SVG text."""
        return self._result.svg(self.name)

    def png(self, dpi=300.0):
        """The PNG bytes at ``dpi`` (the files are at 300)."""
        return self._result.png(self.name, dpi)

    def pdf(self):
        """The PDF bytes."""
        return self._result.pdf(self.name)

    def _repr_svg_(self):
        return self.svg()

    def _repr_png_(self):
        return self.png(100.0)

    def save(self, path):
        """Writes the figure to ``path``, as SVG, PNG or PDF by its extension."""
        path = os.fspath(path)
        extension = os.path.splitext(path)[1].lower()
        if extension == ".svg":
            data = self.svg().encode()
        elif extension == ".png":
            data = self.png()
        elif extension == ".pdf":
            data = self.pdf()
        else:
            raise ValueError(f"{path}: save as .svg, .png or .pdf")
        with open(path, "wb") as out:
            out.write(data)

    def __repr__(self):
        return f"<expost.Figure {self.name}: {self.title}>"


class Result:
    """A study's result. ``tables`` and ``figures`` map output names (those
    of the files ``-o DIR`` writes) to Tables and Figures; each table is an
    attribute too (``result.runs``, ``result.series``)."""

    def __init__(self, native):
        self._native = native
        outputs = native.outputs()
        self._tables = [name for name, _, kind, _ in outputs if kind == "table"]
        self.figures = {
            name: Figure(native, name, title, kind)
            for name, title, kind, _ in outputs
            if kind in ("figure", "chart")
        }
        self._cache = {}

    @property
    def study(self):
        """The study's name."""
        return self._native.study

    @property
    def command(self):
        """The ``expost`` command line that gives the same result."""
        return self._native.command

    @property
    def headline(self):
        """One line saying what was analysed."""
        return self._native.headline

    @property
    def failed_units(self):
        """How many units (runs, traces, …) could not be analysed."""
        return self._native.failed_units

    @property
    def summary(self):
        """The JSON summary as a dict: what ``--json`` prints."""
        return json.loads(self._native.summary_json())

    @property
    def tables(self):
        """Every table, by name."""
        return {name: self.table(name) for name in self._tables}

    def table(self, name):
        """The table ``name`` (as its file ``NAME.csv``)."""
        if name not in self._tables:
            raise KeyError(f"{name}: no such table (there are: {', '.join(self._tables)})")
        if name not in self._cache:
            self._cache[name] = Table(self._native.table(name), name)
        return self._cache[name]

    @property
    def diagnostics_list(self):
        """Every diagnostic as (unit, severity, file, line, message)."""
        return self._native.diagnostics()

    def write(self, dir):
        """Writes what ``-o DIR`` writes into ``dir`` (tables, figures,
        summary, diagnostics, manifest); returns the number of files."""
        return self._native.write(os.fspath(dir))

    def __getattr__(self, name):
        if name.startswith("_") or name not in self.__dict__.get("_tables", ()):
            raise AttributeError(name)
        return self.table(name)

    def __dir__(self):
        return [*super().__dir__(), *self._tables]

    def __repr__(self):
        return (
            f"<expost.Result {self.study}: {self.headline}; "
            f"tables {', '.join(self._tables)}; figures {', '.join(self.figures)}>"
        )

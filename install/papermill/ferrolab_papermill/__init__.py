"""papermill parameters for Ferrolab's Rust notebooks.

The parameters cell declares each parameter with its type, as Rust does:

    let learning_rate: f64 = 0.001;  // step size
    let name = "baseline";
    let layers: Vec<usize> = vec![32, 16];

papermill's values carry no Rust types (JSON, and `-p layers "[16, 8]"` gives the string
"[16, 8]"), so each injected line hands the value over as JSON text and the declared variable
picks the type, through the prelude's `parameter` (prelude/src/parameters.rs):

    let layers = parameter(&layers, "layers", r#"[16, 8]"#);

An integer stays an integer, a float keeps its decimal point, a string arrives as written,
lists and maps become the declared Vec, HashMap, ... A value that does not fit the declared
type stops the run with an error naming the parameter; so does an undeclared parameter.
"""

import json
import math
import re

from papermill.models import Parameter
from papermill.translators import Translator, papermill_translators

__version__ = "0.1.0"


class RustTranslator(Translator):
    @classmethod
    def translate(cls, val):
        return raw_string(json.dumps(finite(val), ensure_ascii=False))

    @classmethod
    def comment(cls, cmt_str):
        return f"// {cmt_str}".strip()

    @classmethod
    def assign(cls, name, str_val):
        return f'let {name} = parameter(&{name}, "{name}", {str_val});'

    # `let name: Type = value; // help`, as a parameters cell declares them.
    DECLARATION = re.compile(
        r"^\s*let\s+(?:mut\s+)?(?P<name>[A-Za-z_]\w*)\s*(?::\s*(?P<type>[^=]+?))?\s*=\s*(?P<value>.+?);\s*(?://\s*(?P<help>.*))?$"
    )

    @classmethod
    def inspect(cls, parameters_cell):
        """The declared parameters, for `papermill --help-notebook`."""
        found = []
        for line in parameters_cell.source.splitlines():
            match = cls.DECLARATION.match(line)
            if match:
                found.append(Parameter(
                    name=match["name"],
                    inferred_type_name=(match["type"] or "None").strip(),
                    default=match["value"].strip(),
                    help=(match["help"] or "").strip(),
                ))
        return found


def finite(val):
    """JSON has no NaN or infinities: they travel as the strings Rust's float parser reads."""
    if isinstance(val, float) and not math.isfinite(val):
        return str(val)  # "nan", "inf", "-inf"
    if isinstance(val, list):
        return [finite(v) for v in val]
    if isinstance(val, dict):
        return {str(k): finite(v) for k, v in val.items()}
    return val


def raw_string(text):
    """A Rust raw string literal holding `text` as is: as many `#` as it needs to end."""
    hashes = "#" * (max((len(run) for run in re.findall(r'"(#*)', text)), default=-1) + 1)
    return f'r{hashes}"{text}"{hashes}'


# By kernel name and by language: papermill looks the translator up by both.
papermill_translators.register("ferrolab", RustTranslator)
papermill_translators.register("rust", RustTranslator)

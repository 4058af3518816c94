"""Instructor tooling built on nbgrader: release, grade (sandboxed), feedback, report, check."""

import sys

# jsonschema (under nbformat and nbgrader) imports rfc3987_syntax when it is installed, which
# compiles ~35 Earley grammars at import: 2.5-3 s of CPU in every grading process, for an
# "iri" format no notebook schema uses (python-jsonschema/jsonschema#1428). Skip it here.
sys.modules.setdefault("rfc3987_syntax", None)

"""Stage ``tagging``: passages -> ``Passage.tags`` (codes of the codebook) and the
document level (``Document.metadata["level"]``).

Rules (``rules.py``, patterns in ``data/rules.yaml``) and a trained classifier
(``classifier.py``) are combined by ``Tagger`` (``tagger.py``). Heavy modules (spaCy,
numpy, scikit-learn) are imported only when a tagger is built, so importing this
package stays cheap.
"""

from .codebook import Code, Codebook, CodebookError, load_codebook

__all__ = ["Code", "Codebook", "CodebookError", "load_codebook", "load_rules", "Tagger",
           "LabelledDocument", "RuleMatcher"]


def __getattr__(name: str):
    if name in ("Tagger", "LabelledDocument"):
        from . import tagger

        return getattr(tagger, name)
    if name in ("load_rules", "RuleMatcher"):
        from . import rules

        return getattr(rules, name)
    raise AttributeError(name)

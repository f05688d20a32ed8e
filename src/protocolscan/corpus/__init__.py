"""Corpus stage: the batch store (SQLite) and what is made from it.

- ``manifest``: the files of a batch run (folder or manifest CSV) and their schools;
- ``store``: the SQLite schema (docs/store-schema.md), one transaction per document;
- ``tables``: tables B2.3, B2.1 and verdicts per requirement (md, csv, xlsx);
- ``qda``: REFI-QDA export (.qdpx, .qdc) and import of reviewed human coding;
- ``agreement``: Cohen's kappa, Krippendorff's alpha and percent agreement.

Like every stage it imports only ``protocolscan.model`` and its own modules; the
codebook and the catalogue come in as plain data from ``protocolscan.batch``.
"""

from .agreement import AgreementError, AgreementReport, Coding, cohen_kappa, compare, krippendorff_alpha
from .manifest import Entry, ManifestError, load_entries
from .qda import QdaError
from .store import MACHINE_CODER, StoreError, connect
from .tables import TableError

__all__ = ["AgreementError", "AgreementReport", "Coding", "Entry", "MACHINE_CODER", "ManifestError", "QdaError",
           "StoreError", "TableError", "cohen_kappa", "compare", "connect", "krippendorff_alpha", "load_entries"]

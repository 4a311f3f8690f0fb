"""Flow records as Arrow record batches and tables, pandas DataFrames and Parquet files.

The records of capture files come from the Rust core already laid out as Arrow columns and
become arrays without a Python object per flow or per value. Columns follow the flow
record (:data:`netsonde.FIELD_NAMES`, the same values as the JSON lines) with these types:
integers as unsigned or signed integers of their width, text as strings (``None`` for an
absent optional field), ``risks`` as a list of strings and ``metadata`` as its JSON text
(``json.loads`` gives the record's dict; attributes differ from flow to flow, a column each
would be mostly empty).

Needs pyarrow (``pip install 'netsonde[arrow]'``); :func:`to_pandas` also needs pandas.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

try:
    import pyarrow as pa
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "netsonde's Arrow, pandas and Parquet output needs pyarrow: pip install 'netsonde[arrow]'"
    ) from e

from . import _core
from .api import Run, Source, _as_paths, _link_type_number, _packet_triples, _refuse_bytes
from .errors import TruncatedCaptureWarning
from .flow import FIELD_NAMES, Flow
from .options import Options

if TYPE_CHECKING:
    import pandas

#: Flows per record batch when reading capture files.
BATCH_SIZE = 65536

_ARROW_TYPES = {
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint64": pa.uint64(),
    "int64": pa.int64(),
    "text": pa.string(),
    "optional_text": pa.string(),
    "json": pa.string(),
    "text_list": pa.list_(pa.string()),
}

#: The Arrow schema of flow records, from the core's declaration of the record's fields.
SCHEMA: Any = pa.schema(
    [pa.field(name, _ARROW_TYPES[kind], nullable=kind == "optional_text") for name, kind, _ in _core.FIELDS]
)


def _array(field: Any, rows: int, validity: bytes | None, buffers: list[bytes]) -> Any:
    """One column of the core's batch as an Arrow array, sharing the bytes' memory."""
    bufs = [None if validity is None else pa.py_buffer(validity), *(pa.py_buffer(b) for b in buffers)]
    if pa.types.is_list(field.type):
        list_offsets = buffers[0]
        items = int.from_bytes(list_offsets[-4:], "little", signed=True) if list_offsets else 0
        strings = pa.Array.from_buffers(pa.string(), items, [None, bufs[2], bufs[3]])
        return pa.Array.from_buffers(field.type, rows, bufs[:2], children=[strings])
    return pa.Array.from_buffers(field.type, rows, bufs)


def _record_batch(rows: int, columns: list[tuple[bytes | None, list[bytes]]]) -> Any:
    arrays = [_array(f, rows, v, b) for f, (v, b) in zip(SCHEMA, columns, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=SCHEMA)


def _warn(message: str) -> None:
    warnings.warn(message, TruncatedCaptureWarning, stacklevel=4)


def file_batches(
    core: _core.FileAnalysis,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int, int], object] | None = None,
    on_warning: Callable[[str], object] = _warn,
) -> Iterator[Any]:
    """The record batches of an opened ``_core.FileAnalysis``; a damaged input's warning
    goes to ``on_warning`` (by default a :class:`TruncatedCaptureWarning`)."""
    while True:
        chunks = core.next_columns(batch_size, progress)
        for message in core.take_warnings():
            on_warning(message)
        if chunks is None:
            return
        yield from _sliced(chunks, batch_size)


class RecordBatches(Run[Any]):
    """The record batches of one :func:`record_batches` call, and the run's counters
    (``stats``), as :class:`netsonde.Analysis` has them."""


def provenance(stats: dict[str, int]) -> dict[str, str]:
    """What the schema metadata of a table or Parquet file says of the run that made it:
    netsonde's version and the run's counters (JSON)."""
    return {"netsonde.version": _core.__version__, "netsonde.stats": json.dumps(stats, sort_keys=True)}


def record_batches(
    source: Source, *, link_type: int | str = "ethernet", batch_size: int = BATCH_SIZE, **options: Any
) -> RecordBatches:
    """The flow records of ``source`` as ``pyarrow.RecordBatch``es of :data:`SCHEMA` of at
    most ``batch_size`` flows, in the order flows end. Sources and options are those of
    :func:`netsonde.analyze`."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    opts = Options.from_kwargs(options)
    paths = _as_paths(source)
    if paths is not None:
        # Opened here, so that a missing file raises at the call.
        core = _core.FileAnalysis(paths, opts.to_core(), Flow)
        return RecordBatches(file_batches(core, batch_size), core.stats)
    _refuse_bytes(source)
    engine = _core.PacketEngine(opts.to_core(), Flow)
    batches = _packet_batches(engine, source, _link_type_number(link_type), batch_size)  # type: ignore[arg-type]
    return RecordBatches(batches, engine.stats)


def _packet_batches(
    core: _core.PacketEngine, packets: Iterable[Any], link_type: int, batch_size: int
) -> Iterator[Any]:
    for triples in _packet_triples(packets):
        yield from _sliced(core.process_columns(triples, link_type, batch_size), batch_size)
    yield from _sliced(core.flush_columns(), batch_size)


def _sliced(
    chunks: list[tuple[int, list[tuple[bytes | None, list[bytes]]]]], batch_size: int
) -> Iterator[Any]:
    """The core's column batches as record batches of at most ``batch_size`` flows (the
    core hands out at least that many; slices share the batch's memory)."""
    for rows, columns in chunks:
        batch = _record_batch(rows, columns)
        for start in range(0, rows, batch_size):
            yield batch.slice(start, batch_size)


def to_arrow(
    source: Source, *, link_type: int | str = "ethernet", attribute_columns: bool = False, **options: Any
) -> Any:
    """Every flow record of ``source`` as one ``pyarrow.Table`` of :data:`SCHEMA`; with
    ``attribute_columns``, also a column per attribute (see :func:`add_attribute_columns`).
    The schema's metadata gives netsonde's version and the run's counters (:func:`provenance`)."""
    batches = record_batches(source, link_type=link_type, **options)
    table = pa.Table.from_batches(list(batches), schema=SCHEMA).replace_schema_metadata(
        provenance(batches.stats)
    )
    return add_attribute_columns(table) if attribute_columns else table


def to_pandas(
    source: Source, *, link_type: int | str = "ethernet", attribute_columns: bool = False, **options: Any
) -> pandas.DataFrame:
    """Every flow record of ``source`` as a ``pandas.DataFrame``, a row per flow; with
    ``attribute_columns``, also a column per attribute (``frame["tls.sni"]``), integer ones
    as pandas' nullable ``Int64`` (a flow without the attribute has ``<NA>``; NumPy's integers
    have no missing value, so pandas would make them floats)."""
    table = to_arrow(source, link_type=link_type, attribute_columns=attribute_columns, **options)
    frame: pandas.DataFrame = table.to_pandas()
    if attribute_columns:
        import pandas as pd

        for field in table.schema:
            if field.name not in SCHEMA.names and pa.types.is_integer(field.type):
                column = table.column(field.name).to_pandas(types_mapper={field.type: pd.Int64Dtype()}.get)
                frame[field.name] = column.array
    return frame


_ATTRIBUTE_TYPES = {"str": pa.string(), "int": pa.int64(), "list[str]": pa.list_(pa.string())}


def add_attribute_columns(table: Any) -> Any:
    """``table`` (of :data:`SCHEMA`) with a column appended for each metadata attribute that
    any of its flows carries, named as the attribute (``tls.sni``, ``http.status_code``),
    typed as the registry declares it (``null`` where a flow lacks it), in name order. The
    ``metadata`` column stays, whole."""
    declared = {name: _ATTRIBUTE_TYPES[kind] for name, kind, _, _ in _core.registry()[2]}
    rows = table.num_rows
    columns: dict[str, list[Any]] = {}
    # One pass over the flows, touching only the attributes each carries (a few of ~200).
    for i, text in enumerate(table.column("metadata").to_pylist()):
        for name, value in json.loads(text).items():
            column = columns.get(name)
            if column is None:
                column = columns[name] = [None] * rows
            column[i] = value
    for name in sorted(columns):
        kind = declared.get(name, pa.string())
        table = table.append_column(pa.field(name, kind), pa.array(columns[name], type=kind))
    return table


def flows_to_batch(flows: Iterable[Flow]) -> Any:
    """:class:`Flow` objects (from an :class:`netsonde.Engine`, say) as one
    ``pyarrow.RecordBatch``. Its ``metadata`` is written by Python's ``json``: the same
    object as the core writes, though a backspace or form feed is escaped differently."""
    flows = list(flows)
    data: dict[str, list[Any]] = {name: [getattr(f, name) for f in flows] for name in FIELD_NAMES}
    data["metadata"] = [json.dumps(m, ensure_ascii=False, separators=(",", ":")) for m in data["metadata"]]
    return pa.RecordBatch.from_pydict(data, schema=SCHEMA)


def write_parquet(
    source: Source,
    path: str | os.PathLike[str],
    *,
    link_type: int | str = "ethernet",
    compression: str = "zstd",
    **options: Any,
) -> int:
    """Writes the flow records of ``source`` to a Parquet file as they come, a row group per
    batch (bounded memory), with the file's metadata giving netsonde's version and the run's
    counters (:func:`provenance`); returns the number of flows."""
    batches = record_batches(source, link_type=link_type, **options)
    return write_batches(path, batches, lambda: batches.stats, compression)


def write_batches(
    where: Any, batches: Iterable[Any], stats: Callable[[], dict[str, int]], compression: str = "zstd"
) -> int:
    """Writes record batches of :data:`SCHEMA` to a Parquet file (a path or a binary stream
    that can tell its position), a row group per batch, then the run's :func:`provenance`
    from ``stats`` once the batches are done; returns the number of flows."""
    import pyarrow.parquet as pq

    rows = 0
    with pq.ParquetWriter(where, SCHEMA, compression=compression) as writer:
        for batch in batches:
            writer.write_batch(batch)
            rows += batch.num_rows
        writer.add_key_value_metadata(provenance(stats()))
    return rows

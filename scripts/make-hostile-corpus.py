#!/usr/bin/env python3
"""Writes hostile InfluxDB data tarballs under tests/corpus/hostile/ (a few
hundred bytes each), read by crates/cli/tests/hostile.rs.

Each is an influxdb-data.tar.gz whose data folder, or something in it, is
not a regular file or folder: a symbolic link out of the folder it is
unpacked in (relative, so it points next to the test's TMPDIR), a hard link,
a character device, a FIFO. Decompression bombs are built by the tests at
run time (sparse files, so they cost little disk).

Usage: scripts/make-hostile-corpus.py [OUT_DIR]
"""
import gzip
import io
import os
import sys
import tarfile

# Unpacked as TMPDIR/expost-influxd-XXXX/unpacked/influxdb-data: three
# levels up from the data folder's parent is TMPDIR's parent.
OUTSIDE = "../../../outside"


def entry(name, kind, **fields):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mtime = 0
    info.mode = 0o755 if kind in (tarfile.DIRTYPE, tarfile.SYMTYPE) else 0o644
    for key, value in fields.items():
        setattr(info, key, value)
    return info


def folders(*names):
    return [entry(n, tarfile.DIRTYPE) for n in names]


def data_folder(without=()):
    parts = [p for p in ("meta", "data", "wal") if p not in without]
    return folders("influxdb-data", *(f"influxdb-data/{p}" for p in parts))


CASES = {
    # The data folder itself is a link to a folder outside.
    "symlink-data-dir": [entry("influxdb-data", tarfile.SYMTYPE, linkname=OUTSIDE)],
    # meta/ is a link to a folder outside.
    "symlink-meta": data_folder(without=("meta",))
    + [entry("influxdb-data/meta", tarfile.SYMTYPE, linkname=f"../{OUTSIDE}/meta")],
    # A file in wal/ links to a file outside.
    "symlink-file": data_folder()
    + [entry("influxdb-data/wal/_00001.wal", tarfile.SYMTYPE, linkname="/etc/hostname")],
    # A hard link to another member.
    "hardlink": data_folder()
    + [
        entry("influxdb-data/meta/meta.db", tarfile.REGTYPE, size=0),
        entry("influxdb-data/data/x", tarfile.LNKTYPE, linkname="influxdb-data/meta/meta.db"),
    ],
    # A character device (/dev/zero's numbers).
    "chardev": data_folder()
    + [entry("influxdb-data/data/zero", tarfile.CHRTYPE, devmajor=1, devminor=5)],
    # meta.db is a FIFO: a server opening it would block.
    "fifo-meta": data_folder()
    + [entry("influxdb-data/meta/meta.db", tarfile.FIFOTYPE)],
}


def main():
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "tests/corpus/hostile")
    os.makedirs(out, exist_ok=True)
    for name, entries in CASES.items():
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.GNU_FORMAT) as tar:
            for info in entries:
                tar.addfile(info, io.BytesIO(b"") if info.isreg() else None)
        path = os.path.join(out, f"{name}.tar.gz")
        with open(path, "wb") as f:
            f.write(gzip.compress(raw.getvalue(), mtime=0))
        print(path)


if __name__ == "__main__":
    main()

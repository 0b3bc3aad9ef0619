"""Work in other processes, where that is safe: the machine's second core for a build.

Worker processes are forked, so they start at once with every loaded module and all data
already in memory, and never re-run the caller's main script.  Forking a process that runs
other threads (``mkdocs serve`` watches files in threads) can deadlock, so then, or where
fork does not exist, callers do the work in their own process instead.  Results never
depend on where the work ran.
"""

from __future__ import annotations

import mmap
import multiprocessing
import os
import tempfile
import threading
import traceback
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterator


def can_fork() -> bool:
    """Whether work may be handed to forked processes from here: not while other threads
    run, and not from a worker itself (it is a daemon process, which may not have children;
    its parent already uses the other core)."""
    return (
        threading.active_count() == 1
        and not multiprocessing.current_process().daemon
        and "fork" in multiprocessing.get_all_start_methods()
    )


def cpu_count() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def fork_pool(processes: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()) -> ProcessPoolExecutor:
    """A pool of *processes* forked workers (check :func:`can_fork` first)."""
    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(processes, mp_context=context, initializer=initializer, initargs=initargs)


class WorkerError(RuntimeError):
    """The background process failed; the message says how (with its traceback), and
    ``original`` is the exception raised there when it could be sent back."""

    def __init__(self, message: str, original: BaseException | None = None) -> None:
        super().__init__(message)
        self.original = original


class Forked:
    """``work()`` run in a forked process; :meth:`result` waits for its return value.

    Nothing runs in this process meanwhile (no thread), so more work may be forked from it.
    A *background* process runs at the lowest priority: it takes only the time that no
    other process of the build wants, so it never slows down the work that others wait for.
    """

    def __init__(self, work: Callable[[], Any], *, background: bool = False) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        produce = _only_result(_niced(work) if background else work)
        self._process = context.Process(target=_produce_into, args=(produce, send), daemon=True)
        self._process.start()
        send.close()

    def result(self) -> Any:
        """What ``work()`` returned; WorkerError if it raised or its process died."""
        try:
            kind, payload = self._receive.recv()
        except (EOFError, OSError):
            kind, payload = "error", (f"the forked process stopped unexpectedly (exit code {self._process.exitcode})", None)
        finally:
            self._process.join()
            self._receive.close()
        if kind != "done":
            raise WorkerError(*payload)
        return payload

    def ready(self) -> bool:
        """Whether :meth:`result` would return (or fail) at once."""
        return self._receive.closed or self._receive.poll()


def _niced(work: Callable[[], Any]) -> Callable[[], Any]:
    def lowest_priority() -> Any:
        if hasattr(os, "nice"):
            os.nice(19)
        return work()

    return lowest_priority


def _only_result(work: Callable[[], Any]) -> Callable[[], Iterator[tuple[str, Any]]]:
    def produce() -> Iterator[tuple[str, Any]]:
        yield from ()  # no items: the return value is the result
        return work()

    return produce


class SharedCursor:
    """A list of *total* items worked through together by this process and the processes
    forked from it after this was made: each :meth:`claims` step takes the next *step*
    items that no process has taken yet.

    Handing out work as it is asked for, instead of halves fixed in advance, keeps both
    cores busy to the end even when the processes have other work of their own, or one
    of them is slowed down by a third.
    """

    def __init__(self, total: int, step: int) -> None:
        # Shared memory, inherited by forked processes (with its lock).
        self._next = multiprocessing.get_context("fork").Value("q", 0)
        self.total, self.step = total, max(1, step)

    def claims(self) -> Iterator[range]:
        """The ranges of items this process takes, one after another, until none is left."""
        while True:
            with self._next.get_lock():
                start = self._next.value
                self._next.value = start + self.step
            if start >= self.total:
                return
            yield range(start, min(start + self.step, self.total))


class Spool:
    """Pages and files a forked process hands back through a temporary file instead of a
    pipe.

    A pipe holds 64 KiB: a process sending a hundred megabytes of pages waits for the
    other to read them, and both pickle and copy them on the way.  Written to a file (the
    operating system's page cache) as they are made, they cost the maker next to nothing,
    and the process that made the spool reads them all at once at the end.  Made before
    forking, so that both processes share the file; one process writes.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._index: list[tuple[str, int, bool]] = []

    def write(self, items: dict[str, str] | dict[str, bytes] | dict[str, str | bytes]) -> None:
        """Append *items* (name -> text or bytes) to the file."""
        data = [value.encode("utf-8") if isinstance(value, str) else value for value in items.values()]
        self._file.write(b"".join(data))
        self._index += zip(items, map(len, data), [isinstance(value, str) for value in items.values()])

    def contents(self) -> list[tuple[str, int, bool]]:
        """What this process wrote: (name, size in bytes, whether text) in order, to be
        passed to :meth:`read` in the process that made the spool."""
        self._file.flush()
        return self._index

    def read(self, contents: list[tuple[str, int, bool]]) -> dict[str, str | bytes]:
        """The items listed in *contents*, by name; closes the file."""
        items: dict[str, str | bytes] = {}
        if sum(size for _, size, _ in contents):
            # Items are made straight from the file's pages in the page cache: reading it
            # into memory first would allocate (and fault in) a hundred megabytes more.
            with mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                data = memoryview(mapped)
                position = 0
                for name, size, text in contents:
                    chunk = data[position : position + size]
                    items[name] = str(chunk, "utf-8") if text else bytes(chunk)
                    chunk.release()
                    position += size
                data.release()
        else:
            items = {name: "" if text else b"" for name, _, text in contents}
        self._file.close()
        return items


class Background:
    """The items of ``produce()``, made in a forked process and fetched by name as needed.

    ``produce`` yields ``(name, value)`` pairs and runs in the child, which sends them in
    batches; a thread here receives them as they come, so the child never waits for the
    caller, and :meth:`get` blocks only until the named item has arrived.  The caller goes
    on with other work meanwhile (MkDocs converting pages), so the two run on two cores.
    The value ``produce`` returns (through ``StopIteration``) is what :meth:`finish` returns.
    """

    BATCH_BYTES = 1 << 18  # send about this much at a time: fewer, larger messages

    def __init__(self, produce: Callable[[], Iterator[tuple[str, Any]]]) -> None:
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_produce_into, args=(produce, send), daemon=True)
        self._process.start()
        send.close()  # the child holds the only writing end: its exit ends the stream
        self._items: dict[str, Any] = {}
        self._result: Any = None
        self._error: tuple[str, BaseException | None] | None = None
        self._done = False
        self._arrived = threading.Condition()
        self._reader = threading.Thread(target=self._drain, name="readinglist-receiver", daemon=True)
        self._reader.start()

    def get(self, name: str) -> Any:
        """The item called *name*, waiting for it if needed; each item is handed out once."""
        with self._arrived:
            while name not in self._items:
                if self._done:
                    self._raise_error()
                    raise KeyError(f"the background work made no item '{name}'")
                self._arrived.wait()
            return self._items.pop(name)

    def finish(self) -> Any:
        """Wait for the end of the work and return ``produce``'s return value."""
        with self._arrived:
            while not self._done:
                self._arrived.wait()
            self._raise_error()
            return self._result

    def close(self) -> None:
        """Stop the child if it still runs (a build that failed elsewhere) and release it."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
        self._reader.join()
        self._receive.close()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise WorkerError(*self._error)

    def _drain(self) -> None:
        while True:
            try:
                kind, payload = self._receive.recv()
            except (EOFError, OSError):
                self._process.join()
                kind, payload = "error", (f"the background process stopped unexpectedly (exit code {self._process.exitcode})", None)
            with self._arrived:
                if kind == "items":
                    self._items.update(payload)
                elif kind == "done":
                    self._result, self._done = payload, True
                else:
                    self._error, self._done = payload, True
                self._arrived.notify_all()
            if kind != "items":
                return


def _produce_into(produce: Callable[[], Iterator[tuple[str, Any]]], send: Any) -> None:
    batch: list[tuple[str, Any]] = []
    size = 0
    try:
        items = produce()
        while True:
            try:
                name, value = next(items)
            except StopIteration as end:
                result = end.value
                break
            batch.append((name, value))
            size += len(value) if isinstance(value, (str, bytes)) else 1
            if size >= Background.BATCH_BYTES:
                send.send(("items", batch))
                batch, size = [], 0
        if batch:
            send.send(("items", batch))
        send.send(("done", result))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the parent
        if batch:  # what was made before the failure still arrives first
            send.send(("items", batch))
        text = "".join(traceback.format_exception(exc)).rstrip()
        try:
            send.send(("error", (text, exc)))
        except Exception:  # noqa: BLE001 - an exception that cannot be pickled: its text
            send.send(("error", (text, None)))
    finally:
        send.close()

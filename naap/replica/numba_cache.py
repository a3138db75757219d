"""numba's on-disk cache made to notice edits of the other modules a compiled function calls.

numba keys a cached function by the modification time and size of its own source file only
(numba issue #1833): a function that calls compiled functions of another module carries their
machine code in its cache, and after an edit of that module (or a checkout that changes only
it) numba would load the old code. depends_on adds those modules' stamps to the function's, so
that any change among them makes numba compile it again, as an edit of its own file does.
"""
import os


def source_stamp(module):
    """(mtime, size) of a module's source file: what numba stamps its own file with."""
    st = os.stat(module.__file__)
    return st.st_mtime, st.st_size


def depends_on(*modules):
    """Decorator over an @njit(cache=True) dispatcher whose compiled code calls (or inlines)
    compiled functions of `modules`: its cache is fresh only while they are unchanged too."""
    def decorate(dispatcher):
        if not hasattr(dispatcher, "_cache"):
            return dispatcher  # NUMBA_DISABLE_JIT: a plain Python function, nothing cached
        cache_file = dispatcher._cache._cache_file  # numba 0.68's IndexDataCacheFile
        cache_file._source_stamp = (cache_file._source_stamp, tuple(source_stamp(m) for m in modules))
        return dispatcher
    return decorate

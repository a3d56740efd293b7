# Dump test target: a coroutine awaiting another, running under asyncio (3.6+),
# spinning in the innermost one.
import asyncio
import sys


async def inner():
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True: pass  # mark: inner-loop


async def outer():
    await inner()  # mark: outer-await


loop = asyncio.new_event_loop()
loop.run_until_complete(outer())

"""The baseline for bench/run.py: a bare aiohttp app that answers "hello", run like `yatri serve`."""

import argparse

from aiohttp import web


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args()
    app = web.Application()
    app.router.add_get("/", hello)
    web.run_app(app, host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()

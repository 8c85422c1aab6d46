"""Build hook: compile the web UI's message catalogs (.po → .mo) into every wheel and sdist build.

Everything else about the distribution is declared in pyproject.toml.
"""

from pathlib import Path

from setuptools import Command, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

TRANSLATIONS = Path(__file__).resolve().parent / "fleet" / "translations"


class compile_catalogs(Command):
    """Compile fleet/translations/*/LC_MESSAGES/messages.po next to themselves."""

    description = "compile the web UI's message catalogs"
    user_options: list = []

    def initialize_options(self):
        pass

    def finalize_options(self):
        pass

    def run(self):
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with po.with_suffix(".mo").open("wb") as target:
                write_mo(target, catalog)


class build_py_with_catalogs(build_py):
    def run(self):
        self.run_command("compile_catalogs")
        super().run()


class sdist_with_catalogs(sdist):
    def run(self):
        self.run_command("compile_catalogs")
        super().run()


setup(cmdclass={"compile_catalogs": compile_catalogs, "build_py": build_py_with_catalogs,
                "sdist": sdist_with_catalogs})

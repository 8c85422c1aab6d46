"""Extensions, created unbound and bound in create_app."""

from flask_migrate import Migrate


migrate = Migrate(render_as_batch=True)

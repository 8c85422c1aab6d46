"""Extensions, created unbound and bound in create_app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect


migrate = Migrate(render_as_batch=True)
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()

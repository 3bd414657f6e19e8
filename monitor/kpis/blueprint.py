from flask import Blueprint

blueprint = Blueprint("kpis", __name__)

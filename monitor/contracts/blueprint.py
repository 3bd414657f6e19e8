from flask import Blueprint

blueprint = Blueprint("contracts", __name__)

"""The province's message catalogue (Vietnamese first; msgids are the English text)."""
from motcua.i18n import Catalogue

T = Catalogue(__file__)

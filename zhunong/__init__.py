"""zhunong: public-interest livestream commerce for county produce (助农直播)."""

__version__ = "0.1.0"

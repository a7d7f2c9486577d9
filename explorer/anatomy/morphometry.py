"""Published lumbar morphometry, in millimetres and degrees, with the sources next to the numbers.

Values are rounded adult means (mixed sex) read from the cited studies; each table also carries the
range the tests accept, so a builder change that drifts outside the published spread fails.
Where studies differ (they do, by population, sex and method: cadaver callipers vs CT vs MRI), the
number chosen sits inside the spread of the sources and the range covers the sources.

Sources
-------
[PANJABI1992] Panjabi MM, Goel V, Oxland T, et al. Human lumbar vertebrae: quantitative
    three-dimensional anatomy. Spine. 1992;17(3):299-306.  (body width/depth/height, canal,
    spinous and transverse processes)
[ZHOU2000] Zhou SH, McCarthy ID, McGregor AH, et al. Geometrical dimensions of the lower lumbar
    vertebrae - analysis of data from digitised CT images. Eur Spine J. 2000;9(3):242-248.
[ZINDRICK1987] Zindrick MR, Wiltse LL, Doornik A, et al. Analysis of the morphometric
    characteristics of the thoracic and lumbar pedicles. Spine. 1987;12(2):160-166.
    (pedicle transverse width L1 8.7, L2 8.9, L3 10.3, L4 12.9, L5 18.0 mm)
[EISENSTEIN1977] Eisenstein S. The morphometry and pathological anatomy of the lumbar spine in
    South African negroes and caucasoids with specific reference to spinal stenosis.
    J Bone Joint Surg Br. 1977;59(2):173-180.  (mid-sagittal canal diameter)
[AMONOO1991] Amonoo-Kuofi HS. Morphometric changes in the heights and anteroposterior diameters
    of the lumbar intervertebral discs with age. J Anat. 1991;175:159-168.  (disc heights)
[IRAN_MRI] Measuring dimensions of lumbar intervertebral discs in normal subjects (MRI, 14 adults
    aged 40-59 without disc disease). Anatomical Sciences Journal (Iran; anatomyjournal.ir).
    (posterior disc height L1/2-L5/S1: 7.31, 8.58, 9.08, 10.14, 8.51 mm, SD 1.0-1.7)
[MANSUR2021] Mansur DI, Shrestha P, Maskey S, Sharma K, Karki S, Kisiju T. Morphometric study of
    lumbar intervertebral spaces (discs) by using MRI. J Lumbini Med Coll (Nepal), 106 scans.
    (posterior height L1-L2 5.52 mm rising to 8.09 mm at L4-L5, 6.94 mm at L5-S1)
[COOK2021] Cook WH, Baker JF. Comparative analysis of lumbar spine vertebral morphology between
    Maori and New Zealand Europeans: a computed tomography study. Int J Spine Surg.
    2021;15(6):1072-1081.  (196 patients; pedicle height falls caudally, L5 12.9 +- 1.9 mm)
[SINGH2013] Singh J, Pahuja K, Khatri JK. Morphometric analysis of the lumbar vertebrae in North
    Indian population. Asian J Pharm Health Sci. 2013;3(4):830-834.  (pedicle height largest at
    L1, 14.6 mm, smallest at L4, 13.4 mm; 20 dry lumbar sets)
[BEEN2014] Been E, Kalichman L. Lumbar lordosis. Spine J. 2014;14(1):87-97.  (L1-S1 lordosis
    about 40-60 degrees in healthy adults, most of it at L4-S1)
[LEGAYE1998] Legaye J, Duval-Beaupere G, Hecquet J, Marty C. Pelvic incidence: a fundamental
    pelvic parameter for three-dimensional regulation of spinal sagittal curves.
    Eur Spine J. 1998;7(2):99-103.  (pelvic incidence 53, sacral slope 41, pelvic tilt 12 deg)
[HASEGAWA1995] Hasegawa T, An HS, Haughton VM, Nowicki BH. Lumbar foraminal stenosis: critical
    heights of the intervertebral discs and foramina. J Bone Joint Surg Am. 1995;77(1):32-38.
    (foraminal height about 20-23 mm in normal foramina, L2-S1)

Foraminal height. On the model the healthy foramen (lower border of the upper pedicle to the upper
border of the lower one, Hasegawa's definition) is the upper body's posterior height minus its
pedicle height plus the disc's posterior height. With Zindrick's pedicle heights (15.4-14.0 mm) and
posterior disc heights of 6.0-7.5 mm it measured 15.6-18.7 mm, below Hasegawa's normal 20-23 mm.
So the pedicle heights are the smaller CT / osteometric values [COOK2021, SINGH2013] (Zindrick's
are larger than these), and the posterior disc heights at L2-S1 lie between the
two MRI series' means [MANSUR2021, IRAN_MRI] (L2-L3 at the Iranian mean); the anterior heights are
raised by the same amounts, so each disc keeps its wedge and the lordosis is unchanged.
[SAIFUDDIN1998] Saifuddin A, Burnett SJ, White J. The variation of position of the conus
    medullaris in an adult population: a magnetic resonance imaging study. Spine.
    1998;23(13):1452-1456.  (conus tip on average at the lower third of L1; range T12-L3)
[MACDONALD1999] Macdonald A, Chatrath P, Spector T, Ellis H. Level of termination of the spinal
    cord and the dural sac: a magnetic resonance study. Clin Anat. 1999;12(3):149-152.
    (dural sac ends on average at the middle third of S2)
"""

from __future__ import annotations

from dataclasses import dataclass

LUMBAR_LEVELS: tuple[str, ...] = ("L1", "L2", "L3", "L4", "L5")
DISC_LEVELS: tuple[str, ...] = ("L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")


@dataclass(frozen=True)
class VertebraDimensions:
    """Size of one lumbar vertebra, millimetres.

    Attributes
    ----------
    body_width, body_depth : float
        Endplate width (left-right) and depth (antero-posterior) [PANJABI1992, ZHOU2000].
    body_height_anterior, body_height_posterior : float
        Body height at the front and back; L5 is taller in front (wedged) [PANJABI1992].
    pedicle_width, pedicle_height : float
        Transverse (outer) width [ZINDRICK1987] and sagittal height of the pedicle [SINGH2013:
        L1 14.6, L4 13.4 mm, L2-L3 between; COOK2021: L5 12.9 mm].
    canal_width : float
        Interpedicular distance, the canal's left-right size [PANJABI1992].
    canal_depth : float
        Mid-sagittal (antero-posterior) canal diameter [EISENSTEIN1977].
    spinous_length, spinous_height : float
        Spinous process length from the lamina to the tip, and its cranio-caudal height
        [PANJABI1992].
    transverse_span : float
        Tip-to-tip width across both transverse processes; longest at L3 [PANJABI1992].
    """

    body_width: float
    body_depth: float
    body_height_anterior: float
    body_height_posterior: float
    pedicle_width: float
    pedicle_height: float
    canal_width: float
    canal_depth: float
    spinous_length: float
    spinous_height: float
    transverse_span: float

    @property
    def body_height(self) -> float:
        """Mean body height (mm)."""
        return 0.5 * (self.body_height_anterior + self.body_height_posterior)


VERTEBRAE: dict[str, VertebraDimensions] = {
    #                    W     D    Ha    Hp   pw    ph    cw    cd   spL   spH   tpSpan
    "L1": VertebraDimensions(42.0, 32.0, 24.5, 25.5, 8.7, 14.6, 22.0, 17.5, 29.0, 22.0, 70.0),
    "L2": VertebraDimensions(44.0, 33.0, 25.5, 26.0, 8.9, 13.9, 22.5, 17.0, 30.0, 24.0, 78.0),
    "L3": VertebraDimensions(46.0, 34.0, 26.5, 26.0, 10.3, 13.8, 23.5, 16.5, 30.0, 25.0, 88.0),
    "L4": VertebraDimensions(48.0, 34.5, 27.0, 25.5, 12.9, 13.4, 24.0, 16.5, 29.0, 24.0, 84.0),
    "L5": VertebraDimensions(50.0, 34.5, 28.0, 24.5, 18.0, 12.9, 26.0, 17.5, 24.0, 19.0, 86.0),
}

# Ranges (min, max) that cover the cited studies' spread of means across levels and sexes;
# the geometry tests check the built meshes against these.
VERTEBRA_RANGES: dict[str, tuple[float, float]] = {
    "body_width": (38.0, 54.0),
    "body_depth": (29.0, 38.0),
    "body_height": (22.0, 30.0),
    "pedicle_width": (6.0, 20.0),
    "canal_width": (20.0, 28.0),
    "canal_depth": (14.0, 20.0),
}


@dataclass(frozen=True)
class DiscDimensions:
    """Height of one intervertebral disc at its front and back edge, millimetres [AMONOO1991;
    posterior heights at L2-S1: MANSUR2021, IRAN_MRI].

    The front is taller than the back at every lumbar level; the difference (the disc's wedge)
    makes most of the lumbar lordosis [BEEN2014].
    """

    height_anterior: float
    height_posterior: float

    @property
    def height(self) -> float:
        """Mean disc height (mm)."""
        return 0.5 * (self.height_anterior + self.height_posterior)


DISCS: dict[str, DiscDimensions] = {
    # Posterior heights L2-S1 between the MRI means [MANSUR2021 / IRAN_MRI]: L2-L3 8.6 (-/8.58),
    # L3-L4 8.6 (-/9.08), L4-L5 8.5 (8.09/10.14), L5-S1 7.1 (6.94/8.51); anteriors raised alike.
    "L1-L2": DiscDimensions(9.5, 6.0),
    "L2-L3": DiscDimensions(13.1, 8.6),
    "L3-L4": DiscDimensions(14.1, 8.6),
    "L4-L5": DiscDimensions(15.5, 8.5),
    "L5-S1": DiscDimensions(15.6, 7.1),
}
DISC_HEIGHT_RANGE: tuple[float, float] = (6.0, 14.0)  # mean heights [AMONOO1991]

# Sagittal alignment [LEGAYE1998, BEEN2014].
SACRAL_SLOPE_DEG: float = 40.0
PELVIC_TILT_DEG: float = 12.0
LORDOSIS_RANGE_DEG: tuple[float, float] = (40.0, 60.0)  # L1 upper endplate to S1 endplate

# S1 upper endplate (top of the sacrum) [PANJABI1992 gives L5 lower endplate about 50 x 35 mm].
S1_ENDPLATE_WIDTH: float = 50.0
S1_ENDPLATE_DEPTH: float = 35.0

FORAMEN_HEIGHT_RANGE: tuple[float, float] = (15.0, 25.0)  # [HASEGAWA1995]

# Neural axis: the conus ends near L1-L2 [SAIFUDDIN1998]; the dural sac ends at S2 [MACDONALD1999].
CONUS_TIP_LEVEL: str = "L1-L2"
DURAL_SAC_END: str = "S2"

# Nerve diameters (mm): lumbar roots thicken caudally; L5 and S1 are about 5 mm where they leave
# the foramen; the sciatic nerve is about 15-20 mm wide as it leaves the pelvis.
ROOT_DIAMETER: dict[str, float] = {
    "L1": 3.0, "L2": 3.4, "L3": 3.8, "L4": 4.4, "L5": 5.0,
    "S1": 5.0, "S2": 3.8, "S3": 3.0,
}
SCIATIC_DIAMETER: float = 15.0
THECAL_SAC_DIAMETER: tuple[float, float] = (15.0, 12.0)  # width, depth inside the canal

"""The CAM family by name: plain data (no torch), for the command line's parser and the pages."""

CAM_METHODS = ("gradcam", "gradcam++", "layercam", "scorecam")
CAM_LABELS = {"gradcam": "Grad-CAM", "gradcam++": "Grad-CAM++", "layercam": "Layer-CAM",
              "scorecam": "Score-CAM"}
CAM_PAPERS = {"gradcam": "Selvaraju et al. 2017", "gradcam++": "Chattopadhay et al. 2018",
              "layercam": "Jiang et al. 2021", "scorecam": "Wang et al. 2020"}
GRADIENT_FREE = {"scorecam"}
SCORE_CAM_BATCH = 64  # Score-CAM's masked images per forward pass


def checked_method(method: str) -> str:
    if method not in CAM_METHODS:
        raise ValueError(f"Unknown CAM method {method!r}; choose one of {', '.join(CAM_METHODS)}.")
    return method

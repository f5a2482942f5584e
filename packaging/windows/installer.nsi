; CUS Desk — Windows installer (NSIS 3, Unicode). Built by
;     python packaging/windows/build_installer.py
; which passes the defines below, read from the package (build_info.py):
;   APP_NAME, APP_VERSION, VERSION_QUAD, DIST_NAME, BUNDLE (the PyInstaller
;   folder dist/cus-desk), ICON, OUTFILE; FAST=1 stores without compression
;   (the Linux CI's stand-in payload).
;
; Per-machine install in Program Files, for every user of the PC, as
; administrator; Start-menu and desktop shortcuts; upgrade in place (the same
; folder, the old program files replaced, user data and settings untouched);
; the uninstaller removes the program and leaves the users' data
; (%LOCALAPPDATA%\cus-desk) and the machine settings (%ProgramData%\cus-desk).
;
; Silent deployment by IT:
;   cus-desk-setup-X.Y.Z.exe /S [/SERVER=postgresql+psycopg://cas-srv/cusdesk] [/D=C:\Chemin]
; /SERVER=… writes %ProgramData%\cus-desk\config.toml:
;   [database]
;   url = "…"
; (read by cus_desk.machine_config for every user of the PC).

Unicode true
ManifestDPIAware true
RequestExecutionLevel admin
!ifdef FAST
  SetCompress off
!else
  SetCompressor /SOLID lzma
!endif

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "WordFunc.nsh"
!include "LogicLib.nsh"
!include "x64.nsh"

!define REG_KEY "Software\${APP_NAME}"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${DIST_NAME}"
!define GUI_EXE "${APP_NAME}.exe"
!define CLI_EXE "${DIST_NAME}.exe"
!define CONFIG_DIR_NAME "cus-desk"

Name "${APP_NAME}"
OutFile "${OUTFILE}"
InstallDir "$PROGRAMFILES64\${APP_NAME}"
InstallDirRegKey HKLM "${REG_KEY}" "InstallDir"
BrandingText "${APP_NAME} ${APP_VERSION}"

VIProductVersion "${VERSION_QUAD}"
VIAddVersionKey /LANG=1036 "ProductName" "${APP_NAME}"
VIAddVersionKey /LANG=1036 "ProductVersion" "${APP_VERSION}"
VIAddVersionKey /LANG=1036 "FileVersion" "${APP_VERSION}"
VIAddVersionKey /LANG=1036 "FileDescription" "Installation de ${APP_NAME}"
VIAddVersionKey /LANG=1036 "CompanyName" "${APP_NAME}"
VIAddVersionKey /LANG=1036 "LegalCopyright" "Usage interne du bailleur"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\${GUI_EXE}"
!define MUI_FINISHPAGE_RUN_TEXT "Lancer ${APP_NAME}"
!define MUI_FINISHPAGE_SHOWREADME "$INSTDIR\licences\THIRD-PARTY-NOTICES.txt"
!define MUI_FINISHPAGE_SHOWREADME_TEXT "Afficher les licences des composants tiers"
!define MUI_FINISHPAGE_SHOWREADME_NOTCHECKED

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "French"

Var Server

Function .onInit
  ${IfNot} ${RunningX64}
    MessageBox MB_ICONSTOP "${APP_NAME} demande une version 64 bits de Windows." /SD IDOK
    Abort
  ${EndIf}
  SetRegView 64
  SetShellVarContext all
  ; /SERVER=… (silent or not): the database URL for every user of this PC
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/SERVER=" $Server
  ${If} ${Errors}
    StrCpy $Server ""
  ${EndIf}
FunctionEnd

Function un.onInit
  SetRegView 64
  SetShellVarContext all
FunctionEnd

; Writes %ProgramData%\cus-desk\config.toml from $Server (a TOML basic
; string: backslashes and double quotes escaped).
Function WriteMachineConfig
  ${If} $Server == ""
    Return
  ${EndIf}
  ReadEnvStr $1 "PROGRAMDATA"
  ${If} $1 == ""
    StrCpy $1 "$APPDATA" ; all users' AppData = C:\ProgramData
  ${EndIf}
  StrCpy $2 "$1\${CONFIG_DIR_NAME}"
  CreateDirectory "$2"
  ${WordReplace} $Server "\" "\\" "+" $3
  ${WordReplace} $3 '"' '\"' "+" $3
  ClearErrors
  FileOpen $4 "$2\config.toml" w
  ${If} ${Errors}
    MessageBox MB_ICONSTOP "Impossible d'écrire $2\config.toml." /SD IDOK
    SetErrorLevel 2
    Abort
  ${EndIf}
  ; ASCII only: FileWrite writes the ANSI code page and TOML is UTF-8
  ; (a URL is ASCII: anything else in it is percent-encoded).
  FileWrite $4 "# ${APP_NAME}: settings for every user of this PC.$\r$\n"
  FileWrite $4 "# Written by the installer (/SERVER=...).$\r$\n"
  FileWrite $4 "[database]$\r$\n"
  FileWrite $4 'url = "$3"$\r$\n'
  FileClose $4
  DetailPrint "Serveur de base de données : $2\config.toml"
FunctionEnd

Section "${APP_NAME}" SecMain
  SectionIn RO
  SetOutPath "$INSTDIR"
  ; Upgrade in place: the previous version's program files go (a stale
  ; library must not outlive its version); user data is elsewhere.
  RMDir /r "$INSTDIR\_internal"
  RMDir /r "$INSTDIR\licences"
  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\${CLI_EXE}"
  File /r "${BUNDLE}\*"
  File "/oname=cus-desk.ico" "${ICON}"

  Call WriteMachineConfig

  ; Shortcuts for every user
  CreateShortCut "$SMPROGRAMS\${APP_NAME}.lnk" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\cus-desk.ico" 0
  CreateShortCut "$DESKTOP\${APP_NAME}.lnk" "$INSTDIR\${GUI_EXE}" "" "$INSTDIR\cus-desk.ico" 0

  ; Uninstaller and "Programs and Features"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  WriteRegStr HKLM "${REG_KEY}" "InstallDir" "$INSTDIR"
  WriteRegStr HKLM "${REG_KEY}" "Version" "${APP_VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayName" "${APP_NAME}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayVersion" "${APP_VERSION}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "Publisher" "${APP_NAME}"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\cus-desk.ico"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKLM "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKLM "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  IntFmt $0 "0x%08X" $0
  WriteRegDWORD HKLM "${UNINSTALL_KEY}" "EstimatedSize" "$0"
SectionEnd

Section "Uninstall"
  Delete "$SMPROGRAMS\${APP_NAME}.lnk"
  Delete "$DESKTOP\${APP_NAME}.lnk"
  RMDir /r "$INSTDIR\_internal"
  RMDir /r "$INSTDIR\licences"
  Delete "$INSTDIR\${GUI_EXE}"
  Delete "$INSTDIR\${CLI_EXE}"
  Delete "$INSTDIR\cus-desk.ico"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR" ; only if empty: nothing of the users' is removed
  DeleteRegKey HKLM "${UNINSTALL_KEY}"
  DeleteRegKey HKLM "${REG_KEY}"
  ; Left on purpose: %LOCALAPPDATA%\cus-desk of each user (databases,
  ; backups, logs) and %ProgramData%\cus-desk\config.toml (IT's setting).
SectionEnd

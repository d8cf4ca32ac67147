@REM Windows: npm runs package.json scripts with cmd.exe, which has no "exec". The scripts start with
@REM "exec" so that a POSIX shell replaces itself with node (npm then passes SIGINT and SIGTERM to the
@REM command itself, see README "Stopping a command"); cmd.exe finds this file in the package folder
@REM instead, runs the rest of the line and hands back its exit code.
@%*
@exit /b %ERRORLEVEL%
